// /api/bundles: upload a bundle (analyzed here when it fits the budget), attach one to a
// report-only share, download one the uploader chose to share.
import { Hono } from 'hono'
import type { AppEnv } from '../env.js'
import { notFound } from '../errors.js'
import { requireMediaType } from '../body.js'
import { newId, newToken, hashToken } from '../ids.js'
import { receiveUpload } from '../upload.js'
import { analyzeUpload } from '../analyze-upload.js'
import { bundleKey, expiryFor, loadShare, saveShare, type Share } from '../store.js'
import { requireOwner } from '../owner.js'
import { shareCreated, wantsShare } from '../share-response.js'

const ZIP_TYPES = ['application/zip', 'application/x-zip-compressed', 'application/octet-stream']

/**
 * The bundles sub-app, mounted at /api/bundles.
 * @example
 *   curl -X POST --data-binary @bundle.zip -H 'Content-Type: application/zip' \
 *     'http://127.0.0.1:8787/api/bundles?share=1'
 */
export const bundles = new Hono<AppEnv>()

/** POST /api/bundles[?share=1][&expiresInDays=N]: store a zip, analyze it when within budget. */
bundles.post('/', async (c) => {
  requireMediaType(c.req.raw, ZIP_TYPES)
  const limits = c.get('limits')
  const now = Date.now()
  const expiresAt = expiryFor(now, c.req.query('expiresInDays'), limits)
  const id = newId()
  const token = newToken()
  const { bytes } = await receiveUpload(c.req.raw, {
    bucket: c.env.BUNDLES,
    key: bundleKey(id),
    customMetadata: { expiresAt: String(expiresAt) },
    maxBytes: limits.maxUploadBytes,
    keepBytes: limits.analyzeMaxBytes,
  })
  let report: string | null = null
  let reason: string | undefined
  if (bytes) {
    try {
      const result = analyzeUpload(bytes, limits)
      if (result.report !== null) report = result.report
      else reason = result.reason
    } catch (e) {
      // A bug in the engine must not lose the upload: keep the bundle, let the client analyze it.
      console.error('dnsbundle worker: server-side analysis failed:', (e as Error).stack)
      reason = 'server-side analysis failed; analyze the bundle in the browser or the CLI'
    }
  } else {
    reason = `bundle is over the ${limits.analyzeMaxBytes}-byte server analysis budget`
  }
  const share: Share = {
    id,
    report,
    meta: {
      v: 1,
      tokenHash: await hashToken(token),
      expiresAt,
      bundle: true,
      shared: wantsShare(c),
      analyzed: report !== null,
    },
  }
  await saveShare(c.env, share)
  return c.json(shareCreated(c, share, token, reason), 201)
})

/**
 * PUT /api/bundles/:id[?share=1]: attach the bundle to a share created by POST /api/reports.
 * Needs `Authorization: Bearer <deleteToken>`. The bundle is stored, not analyzed: the share
 * already has its report.
 */
bundles.put('/:id', async (c) => {
  requireMediaType(c.req.raw, ZIP_TYPES)
  const limits = c.get('limits')
  const share = await loadShare(c.env, c.req.param('id'), Date.now())
  await requireOwner(c.req.raw, share)
  await receiveUpload(c.req.raw, {
    bucket: c.env.BUNDLES,
    key: bundleKey(share.id),
    customMetadata: { expiresAt: String(share.meta.expiresAt) },
    maxBytes: limits.maxUploadBytes,
    keepBytes: 0,
  })
  share.meta = { ...share.meta, bundle: true, shared: wantsShare(c) }
  await saveShare(c.env, share)
  return c.json({ id: share.id, hasBundle: true, shared: share.meta.shared })
})

/** GET /api/bundles/:id: the zip, only when the uploader shared it; otherwise the one 404. */
bundles.get('/:id', async (c) => {
  const share = await loadShare(c.env, c.req.param('id'), Date.now())
  if (!share.meta.bundle || !share.meta.shared) throw notFound()
  const object = await c.env.BUNDLES.get(bundleKey(share.id))
  if (!object) throw notFound()
  return new Response(object.body, {
    headers: {
      'Content-Type': 'application/zip',
      'Content-Length': String(object.size),
      'Content-Disposition': `attachment; filename="dnsbundle-${share.id}.zip"`,
      'Cache-Control': 'no-store',
    },
  })
})
