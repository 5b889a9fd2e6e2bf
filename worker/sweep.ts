// The scheduled expiry sweep: deletes expired bundles (R2) and share records (KV). Reads never
// rely on it, since every read checks the expiry; it reclaims storage and makes "gone" literal.
import type { Env } from './env.js'
import type { ShareMeta } from './store.js'

/** Bounds one run's work; what is left is taken by the next run. */
const MAX_PAGES = 50

export interface SweepResult {
  bundlesDeleted: number
  recordsDeleted: number
}

/**
 * Deletes everything that expired at or before `now`.
 * @example
 *   export default { scheduled: (_e, env, ctx) => ctx.waitUntil(sweepExpired(env, Date.now())) }
 */
export async function sweepExpired(env: Env, now: number): Promise<SweepResult> {
  const result: SweepResult = { bundlesDeleted: 0, recordsDeleted: 0 }
  let cursor: string | undefined
  for (let page = 0; page < MAX_PAGES; page++) {
    const list = await env.BUNDLES.list({ prefix: 'bundles/', cursor, include: ['customMetadata'] })
    const expired = list.objects
      .filter((o) => !(Number(o.customMetadata?.expiresAt) > now))
      .map((o) => o.key)
    if (expired.length) {
      await env.BUNDLES.delete(expired)
      result.bundlesDeleted += expired.length
    }
    if (!list.truncated) break
    cursor = list.cursor
  }
  let kvCursor: string | undefined
  for (let page = 0; page < MAX_PAGES; page++) {
    const list = await env.REPORTS.list<ShareMeta>({ prefix: 'share:', cursor: kvCursor })
    for (const key of list.keys) {
      if (!(key.metadata && key.metadata.expiresAt > now)) {
        await env.REPORTS.delete(key.name)
        result.recordsDeleted++
      }
    }
    if (list.list_complete) break
    kvCursor = list.cursor
  }
  return result
}
