// The UI's one door to the analysis engine (the Perfetto pattern): today a Web Worker in this
// tab, later perhaps a server. Nothing here knows how a report is made.
import type { Report } from '../../core/model/report.js'
import type { EngineInput, EngineProgress, FromWorker, ToWorker } from './protocol.js'

export type { EngineInput, EngineProgress }

declare const __DNSBUNDLE_VERSION__: string | undefined
export const VERSION: string =
  typeof __DNSBUNDLE_VERSION__ === 'string' ? __DNSBUNDLE_VERSION__ : '0.1.0-dev'

/**
 * Analyzes files in a Web Worker (never on the main thread) and resolves with the report.
 * @example
 *   const report = await analyze([{ path: f.name, file: f }], (p) => console.log(p.phase))
 */
export function analyze(
  inputs: EngineInput[],
  onProgress: (p: EngineProgress) => void,
): Promise<Report> {
  const worker = new Worker(new URL('./analysis.worker.ts', import.meta.url), {
    type: 'module',
    name: 'dnsbundle-analysis',
  })
  return new Promise<Report>((resolve, reject) => {
    worker.onmessage = (ev: MessageEvent<FromWorker>) => {
      const msg = ev.data
      if (msg.type === 'progress') return onProgress(msg.progress)
      worker.terminate()
      if (msg.type === 'done') resolve(msg.report)
      else reject(new Error(msg.message))
    }
    worker.onerror = (ev) => {
      worker.terminate()
      reject(new Error(ev.message || 'the analysis worker failed to start'))
    }
    const msg: ToWorker = { type: 'analyze', inputs, version: VERSION }
    worker.postMessage(msg)
  })
}

/** Fetches a shared report (`/r/:id` → `GET /api/reports/:id`). */
export async function fetchSharedReport(id: string): Promise<Report> {
  const res = await fetch(`/api/reports/${encodeURIComponent(id)}`, {
    headers: { accept: 'application/json' },
  })
  if (res.status === 404) throw new Error('This report does not exist, expired or was deleted.')
  if (!res.ok) throw new Error(`The server answered ${res.status} ${res.statusText}.`)
  const body: unknown = await res.json()
  if (!isReport(body)) throw new Error('The server sent something that is not a dnsbundle report.')
  return body
}

export interface ShareResult {
  id: string
  url: string
  deleteToken: string
  expiresAt: string
}

/** Stores the report on the server it was loaded from and returns its link. */
export async function shareReport(report: Report): Promise<ShareResult> {
  const res = await fetch('/api/reports', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(report),
  })
  if (!res.ok) {
    let reason = `${res.status} ${res.statusText}`
    try {
      const err = (await res.json()) as { error?: unknown }
      if (typeof err.error === 'string') reason = err.error
    } catch {
      // not JSON: keep the status line
    }
    throw new Error(`Sharing failed: ${reason}`)
  }
  const r = (await res.json()) as Partial<ShareResult>
  if (typeof r.url !== 'string' || typeof r.id !== 'string')
    throw new Error('Sharing failed: the server answered without a link.')
  return {
    id: r.id,
    url: new URL(r.url, location.href).href,
    deleteToken: String(r.deleteToken ?? ''),
    expiresAt: String(r.expiresAt ?? ''),
  }
}

/** A shared report is untrusted JSON: check the shape the renderer relies on. */
export function isReport(v: unknown): v is Report {
  if (typeof v !== 'object' || v === null) return false
  const r = v as Record<string, unknown>
  return (
    r.schema === 'dnsbundle.report/v1' &&
    Array.isArray(r.inputs) &&
    Array.isArray(r.findings) &&
    typeof r.summary === 'object' &&
    r.summary !== null
  )
}
