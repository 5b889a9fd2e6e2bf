// The analysis worker: reads the dropped files, opens zips, runs the core and posts the Report.
// All the heavy work happens here, off the main thread; the page only renders.
import { analyzeBundle } from '../../core/analyze.js'
import { isZip, openZip, withManifest } from '../../core/bundle/zip.js'
import { mergeBundles, prefixBundle } from '../../core/bundle/merge.js'
import type { Bundle, BundleFile } from '../../core/model/bundle.js'
import type { EngineInput, EngineProgress, FromWorker, ToWorker } from './protocol.js'

const scope = self as unknown as {
  onmessage: ((ev: MessageEvent<ToWorker>) => void) | null
  postMessage(msg: FromWorker): void
}

scope.onmessage = (ev) => {
  if (ev.data.type !== 'analyze') return
  run(ev.data.inputs, ev.data.version).then(
    (report) => scope.postMessage({ type: 'done', report }),
    (e: unknown) =>
      scope.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e) }),
  )
}

async function run(inputs: EngineInput[], version: string) {
  const progress = throttled((p: EngineProgress) =>
    scope.postMessage({ type: 'progress', progress: p }),
  )
  const bundle = await readBundle(inputs, progress)
  const report = analyzeBundle(bundle, {
    detail: true,
    version,
    onProgress: (p) => progress({ phase: p.phase, path: p.path, done: p.done, total: p.total }),
  })
  progress.flush()
  return report
}

/**
 * Turns the dropped files into one Bundle, as the CLI does for its arguments: a zip is opened
 * (its entries prefixed with its name when several inputs were dropped), loose files and folder
 * entries are taken as they are, and the manifests found are merged.
 */
async function readBundle(
  inputs: EngineInput[],
  progress: (p: EngineProgress) => void,
): Promise<Bundle> {
  const total = inputs.reduce((n, i) => n + i.file.size, 0)
  let done = 0
  const loose: BundleFile[] = []
  const skipped: Bundle['skipped'] = []
  const zips: Bundle[] = []
  for (const input of inputs) {
    progress({ phase: 'read', path: input.path, done, total })
    let bytes: Uint8Array
    try {
      bytes = new Uint8Array(await input.file.arrayBuffer())
    } catch (e) {
      skipped.push({ path: input.path, reason: `cannot read: ${(e as Error).message}` })
      continue
    }
    done += input.file.size
    if (!isZip(bytes)) {
      loose.push({ path: input.path, bytes })
      continue
    }
    progress({ phase: 'unzip', path: input.path, done, total })
    const b = openZip(bytes)
    const prefix = inputs.length > 1 ? input.path + ':' : ''
    zips.push(prefix ? prefixBundle(b, prefix) : b)
  }
  progress({ phase: 'read', done: total, total })
  return mergeBundles([...zips, withManifest(loose), { files: [], skipped }])
}

/** Posts at most one progress message per 50 ms per phase change, so the page is not flooded. */
function throttled(post: (p: EngineProgress) => void) {
  let last = 0
  let lastPhase = ''
  let pending: EngineProgress | null = null
  const fn = (p: EngineProgress) => {
    const now = performance.now()
    if (p.phase !== lastPhase || now - last >= 50) {
      post(p)
      last = now
      lastPhase = p.phase
      pending = null
    } else pending = p
  }
  fn.flush = () => {
    if (pending) post(pending)
    pending = null
  }
  return fn
}
