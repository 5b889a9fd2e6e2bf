// The JSON answer to a successful upload: where the share lives and how to delete it.
import type { Context } from 'hono'
import type { AppEnv } from './env.js'
import type { Share } from './store.js'
import type { ShareCreated } from '../core/model/share.js'

export type { ShareCreated }

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
