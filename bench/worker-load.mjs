// Load test of the worker under `wrangler dev` on loopback, from this (second) process:
// 200 concurrent uploads of a small real bundle, then 2,000 report reads. Bounded in count and in
// time (a deadline for the whole run and a timeout per request). Prints p50/p99 latency, errors,
// lost reports, and whether every read came back byte-identical. Targets: 0 errors, 0 lost,
// all identical. Latency is printed, never asserted. Not part of `npm test`.
//
//   node bench/worker-load.mjs [--uploads 200] [--reads 2000] [--concurrency 50] [--port 8870]
//                              [--deadline-s 300] [--url http://127.0.0.1:8787 (use a running server)]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { unzipSync, zipSync, strToU8 } from 'fflate'
import { tsImport } from 'tsx/esm/api'

const root = new URL('..', import.meta.url).pathname
const args = process.argv.slice(2)
const flag = (name, fallback) => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : fallback
}
const UPLOADS = Number(flag('--uploads', '200'))
const READS = Number(flag('--reads', '2000'))
const CONCURRENCY = Number(flag('--concurrency', '50'))
const port = Number(flag('--port', '8870'))
const deadline = Date.now() + Number(flag('--deadline-s', '300')) * 1000
const REQUEST_TIMEOUT_MS = 30_000

// Each upload is the example bundle plus one entry naming it, so a report or a bundle served
// for the wrong id cannot pass the checks.
const example = unzipSync(new Uint8Array(readFileSync(join(root, 'examples/incident-bundle.zip'))))
const bundles = Array.from({ length: UPLOADS }, (_, i) =>
  zipSync({ ...example, [`notes/upload-${i}.txt`]: strToU8(`load test upload ${i}\n`) }),
)

let server
let tmp
let base = flag('--url', '')
if (!base) {
  const { serve } = await tsImport('../collector/serve.ts', import.meta.url)
  tmp = mkdtempSync(join(tmpdir(), 'dnsbundle-load-'))
  console.error(`starting wrangler dev on 127.0.0.1:${port} (storage in ${tmp})…`)
  server = await serve({
    port,
    persistTo: tmp,
    assetsDir: join(root, 'test/fixtures/worker-assets'),
    log: () => {},
  })
  base = server.url
}

const errors = []
try {
  // Phase 1: all uploads at once.
  console.error(`${UPLOADS} concurrent uploads of ${bundles[0].length}-byte bundles…`)
  const uploads = await Promise.all(
    bundles.map((zip, i) =>
      timed(async (signal) => {
        const res = await fetch(`${base}/api/bundles?share=1`, {
          method: 'POST',
          headers: { 'content-type': 'application/zip' },
          body: zip,
          signal,
        })
        const body = await res.text()
        if (res.status !== 201) throw new Error(`upload ${i}: ${res.status} ${body.slice(0, 200)}`)
        return JSON.parse(body)
      }),
    ),
  )
  const created = uploads.map((u) => u.value)

  // Phase 2: reads, round-robin over the uploads, at most CONCURRENCY in flight.
  console.error(`${READS} report reads, ${CONCURRENCY} at a time…`)
  const firstRead = new Map()
  let lost = 0
  let mismatched = 0
  const reads = await pool(READS, CONCURRENCY, (n) =>
    timed(async (signal) => {
      const i = n % UPLOADS
      const share = created[i]
      if (!share) throw new Error(`read ${n}: upload ${i} had failed`)
      const res = await fetch(`${base}/api/reports/${share.id}`, { signal })
      const text = await res.text()
      if (res.status === 404) {
        lost++
        throw new Error(`read ${n}: report ${share.id} of upload ${i} is lost (404)`)
      }
      if (res.status !== 200) throw new Error(`read ${n}: ${res.status} ${text.slice(0, 200)}`)
      const seen = firstRead.get(i)
      if (seen === undefined) {
        firstRead.set(i, text)
        const inputs = JSON.parse(text).inputs.map((x) => x.path)
        if (!inputs.includes(`notes/upload-${i}.txt`)) {
          mismatched++
          throw new Error(
            `read ${n}: report of upload ${i} does not list its own notes/upload-${i}.txt`,
          )
        }
      } else if (seen !== text) {
        mismatched++
        throw new Error(`read ${n}: report of upload ${i} changed between reads`)
      }
    }),
  )

  // Phase 3: every bundle back, byte for byte.
  console.error(`${UPLOADS} bundle downloads…`)
  let bundleMismatch = 0
  await pool(UPLOADS, CONCURRENCY, (i) =>
    timed(async (signal) => {
      if (!created[i]) return
      const res = await fetch(`${base}/api/bundles/${created[i].id}`, { signal })
      const bytes = new Uint8Array(await res.arrayBuffer())
      if (res.status !== 200 || !sameBytes(bytes, bundles[i])) {
        bundleMismatch++
        throw new Error(`bundle ${i}: ${res.status}, ${bytes.length} bytes, not byte-identical`)
      }
    }),
  )

  const uploadMs = uploads.filter((u) => u.ok).map((u) => u.ms)
  const readMs = reads.filter((r) => r.ok).map((r) => r.ms)
  const analyzed = created.filter((c) => c?.analyzed).length
  const result = {
    server: base,
    uploads: {
      sent: UPLOADS,
      ok: uploadMs.length,
      analyzedOnServer: analyzed,
      ...latency(uploadMs),
    },
    reads: { sent: READS, ok: readMs.length, ...latency(readMs) },
    errors: errors.length,
    lostReports: lost,
    reportsNotIdentical: mismatched,
    bundlesNotIdentical: bundleMismatch,
    allByteIdentical: mismatched === 0 && bundleMismatch === 0 && errors.length === 0,
  }
  console.log(JSON.stringify(result, null, 2))
  for (const e of errors.slice(0, 10)) console.error('error:', e)
  process.exitCode = result.allByteIdentical && lost === 0 ? 0 : 1
} finally {
  await server?.stop()
  if (tmp) rmSync(tmp, { recursive: true, force: true })
}

/** Runs `fn` with a per-request timeout and the run's deadline; records the error, never throws. */
async function timed(fn) {
  const t0 = performance.now()
  const left = deadline - Date.now()
  if (left <= 0) {
    errors.push('deadline passed before the request was sent')
    return { ok: false }
  }
  try {
    const value = await fn(AbortSignal.timeout(Math.min(REQUEST_TIMEOUT_MS, left)))
    return { ok: true, value, ms: performance.now() - t0 }
  } catch (e) {
    errors.push(e.message)
    return { ok: false, ms: performance.now() - t0 }
  }
}

/** Runs task(0..count-1) with at most `width` at a time. */
async function pool(count, width, task) {
  const results = new Array(count)
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(width, count) }, async () => {
      while (next < count) {
        const i = next++
        results[i] = await task(i)
      }
    }),
  )
  return results
}

function latency(ms) {
  if (!ms.length) return { p50Ms: null, p99Ms: null, maxMs: null }
  const sorted = [...ms].sort((a, b) => a - b)
  const at = (q) =>
    +sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)].toFixed(1)
  return { p50Ms: at(0.5), p99Ms: at(0.99), maxMs: +sorted[sorted.length - 1].toFixed(1) }
}

function sameBytes(a, b) {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
