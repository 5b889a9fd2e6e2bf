// Share records. One share = one id, holding a report (KV value), a bundle (R2 object), or both.
//
// KV `share:<id>`: value = the report JSON exactly as received or produced ('' while there is
// none); metadata = ShareMeta (hashed delete token, expiry, flags). KV's own `expiration` is set
// too, so Cloudflare drops the record at its expiry even if the sweep never runs.
// R2 `bundles/<id>`: the zip; customMetadata.expiresAt for the sweep.
//
// Why KV for reports and R2 for bundles: a report is small JSON read every time the link is
// opened, which KV serves from the edge; a bundle is a large binary read rarely, which only R2
// can hold (KV values stop at 25 MiB).
import type { Env } from './env.js'
import { ApiError, notFound } from './errors.js'
import { isId } from './ids.js'

export interface ShareMeta {
  v: 1
  /** SHA-256 of the delete token, base64url. */
  tokenHash: string
  /** Milliseconds since the epoch. */
  expiresAt: number
  /** A bundle is stored at bundles/<id>. */
  bundle: boolean
  /** The uploader allowed GET /api/bundles/:id. */
  shared: boolean
  /** The report was produced by the server's analysis (not sent by a client). */
  analyzed: boolean
}

export interface Share {
  id: string
  meta: ShareMeta
  /** The report JSON text, or null while none was stored. */
  report: string | null
}

/** KV key of a share record. */
export const shareKey = (id: string) => `share:${id}`
/** R2 key of a share's bundle. */
export const bundleKey = (id: string) => `bundles/${id}`

/** The key looked up for a malformed id, so it costs the same storage read as an unknown one. */
const NO_SUCH_KEY = shareKey('~'.repeat(24))

/**
 * Loads a live share, or throws the one 404. Unknown, malformed and expired ids all do the same
 * work (one KV read) and get the same answer.
 * @example
 *   const share = await loadShare(c.env, c.req.param('id'), Date.now())
 */
export async function loadShare(env: Env, id: string, now: number): Promise<Share> {
  const { value, metadata } = await env.REPORTS.getWithMetadata<ShareMeta>(
    isId(id) ? shareKey(id) : NO_SUCH_KEY,
  )
  if (value === null || !metadata || metadata.v !== 1 || !(metadata.expiresAt > now))
    throw notFound()
  return { id, meta: metadata, report: value === '' ? null : value }
}

/** Writes (creates or replaces) a share record, with KV expiring it at its expiry. */
export async function saveShare(env: Env, share: Share): Promise<void> {
  await env.REPORTS.put(shareKey(share.id), share.report ?? '', {
    metadata: share.meta,
    // KV wants whole seconds, at least 60 s ahead.
    expiration: Math.ceil(share.meta.expiresAt / 1000),
  })
}

/** Deletes a share: its bundle first, then the record that points at it. */
export async function deleteShare(env: Env, id: string): Promise<void> {
  await env.BUNDLES.delete(bundleKey(id))
  await env.REPORTS.delete(shareKey(id))
}

/**
 * The expiry of a new upload: `days` asked by the uploader (capped), or the default.
 * @example
 *   expiryFor(Date.now(), '7', limits) // 7 days from now
 */
export function expiryFor(
  now: number,
  asked: string | undefined,
  limits: { expiryDays: number; maxExpiryDays: number },
): number {
  let days = limits.expiryDays
  if (asked !== undefined && asked !== '') {
    const n = Number(asked)
    if (!Number.isInteger(n) || n < 1 || n > limits.maxExpiryDays) {
      throw new ApiError(
        400,
        'bad-expiry',
        `expiresInDays must be a whole number from 1 to ${limits.maxExpiryDays}`,
      )
    }
    days = n
  }
  return now + days * 24 * 60 * 60 * 1000
}
