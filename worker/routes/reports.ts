// /api/reports: share a report made by a browser or the CLI, read it, replace it, delete it.
import { Hono, type Context } from 'hono'
import type { AppEnv } from '../env.js'
import { ApiError, notFound } from '../errors.js'
import { declaredLength, readCapped, requireMediaType } from '../body.js'
import { newId, newToken, hashToken } from '../ids.js'
import { deleteShare, expiryFor, loadShare, saveShare, type Share } from '../store.js'
import { requireOwner } from '../owner.js'
import { shareCreated } from '../share-response.js'
import { validateReport } from '../../core/report/validate.js'
import { REPORT_SCHEMA } from '../../core/model/report.js'

/**
 * The reports sub-app, mounted at /api/reports.
 * @example
 *   curl -X POST --data-binary @report.json -H 'Content-Type: application/json' \
 *     http://127.0.0.1:8787/api/reports
 */
export const reports = new Hono<AppEnv>()

/** POST /api/reports[?expiresInDays=N]: store a report JSON; a bundle may follow (PUT /api/bundles/:id). */
reports.post('/', async (c) => {
  const text = await readReport(c)
  const limits = c.get('limits')
  const expiresAt = expiryFor(Date.now(), c.req.query('expiresInDays'), limits)
  const token = newToken()
  const share: Share = {
    id: newId(),
    report: text,
    meta: {
      v: 1,
      tokenHash: await hashToken(token),
      expiresAt,
      bundle: false,
      shared: false,
      analyzed: false,
    },
  }
  await saveShare(c.env, share)
  return c.json(shareCreated(c, share, token), 201)
})

/** GET /api/reports/:id: the report JSON, byte for byte as stored. */
reports.get('/:id', async (c) => {
  const share = await loadShare(c.env, c.req.param('id'), Date.now())
  if (share.report === null) throw notFound()
  return c.body(share.report, 200, {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
  })
})

/**
 * PUT /api/reports/:id: set the report of a share, typically a bundle the server did not analyze
 * (`analyzed: false`), after the client analyzed it. Needs `Authorization: Bearer <deleteToken>`.
 */
reports.put('/:id', async (c) => {
  const share = await loadShare(c.env, c.req.param('id'), Date.now())
  await requireOwner(c.req.raw, share)
  share.report = await readReport(c)
  share.meta = { ...share.meta, analyzed: false }
  await saveShare(c.env, share)
  return c.json({ id: share.id, hasReport: true })
})

/** DELETE /api/reports/:id: delete the share (report and bundle). Needs the delete token. */
reports.delete('/:id', async (c) => {
  const share = await loadShare(c.env, c.req.param('id'), Date.now())
  await requireOwner(c.req.raw, share)
  await deleteShare(c.env, share.id)
  return c.body(null, 204)
})

/** Reads and validates a report body: 415, 413, 400 (not JSON) or 422 (not a report). */
async function readReport(c: Context<AppEnv>): Promise<string> {
  requireMediaType(c.req.raw, ['application/json'])
  const cap = c.get('limits').maxReportBytes
  declaredLength(c.req.raw, cap, 'a report')
  const bytes = await readCapped(c.req.raw.body, cap, 'a report')
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes)
  } catch {
    throw new ApiError(400, 'bad-json', 'malformed JSON: the body is not valid UTF-8')
  }
  let value: unknown
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''))
  } catch (e) {
    throw new ApiError(400, 'bad-json', `malformed JSON: ${(e as Error).message}`)
  }
  const validation = validateReport(value)
  if (!validation.ok) {
    throw new ApiError(422, 'invalid-report', `not a ${REPORT_SCHEMA} report`, {
      problems: validation.problems,
    })
  }
  return text
}
