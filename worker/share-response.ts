// The JSON answer to a successful upload: where the share lives and how to delete it.
import type { Context } from 'hono'
import type { AppEnv } from './env.js'
import type { Share } from './store.js'

export interface ShareCreated {
  id: string
  /** The link to paste in a ticket: the web app at /r/<id>. */
  url: string
  /** Returned once; needed to delete the share or attach its missing half. */
  deleteToken: string
  /** ISO 8601. */
  expiresAt: string
  /** True when the server produced the report. */
  analyzed: boolean
  /** Why the server did not analyze the bundle (the client should send the report). */
  reason?: string
  hasReport: boolean
  hasBundle: boolean
  /** True when GET /api/bundles/<id> serves the bundle. */
  shared: boolean
  reportUrl: string
  bundleUrl?: string
}

/**
 * Builds the upload answer.
 * @example
 *   return c.json(shareCreated(c, share, token), 201)
 */
export function shareCreated(
  c: Context<AppEnv>,
  share: Share,
  deleteToken: string,
  reason?: string,
): ShareCreated {
  const origin = new URL(c.req.url).origin
  return {
    id: share.id,
    url: `${origin}/r/${share.id}`,
    deleteToken,
    expiresAt: new Date(share.meta.expiresAt).toISOString(),
    analyzed: share.meta.analyzed,
    ...(reason ? { reason } : {}),
    hasReport: share.report !== null,
    hasBundle: share.meta.bundle,
    shared: share.meta.shared,
    reportUrl: `${origin}/api/reports/${share.id}`,
    ...(share.meta.bundle && share.meta.shared
      ? { bundleUrl: `${origin}/api/bundles/${share.id}` }
      : {}),
  }
}

/** `?share=1` (or `true`, `yes`): the uploader lets link holders download the bundle. */
export function wantsShare(c: Context<AppEnv>): boolean {
  return ['1', 'true', 'yes'].includes((c.req.query('share') ?? '').toLowerCase())
}
