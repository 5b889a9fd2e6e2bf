// `dnsbundle analyze --share URL`: uploads a report (and optionally its bundle) to a dnsbundle
// worker and returns the share link. The API is documented in README.md, "The server".
import type { Report } from '../core/model/report.js'
import type { ShareCreated } from '../core/model/share.js'

export type { ShareCreated }

export interface ShareOptions {
  /** Days until the share expires (the server's default otherwise, 30). */
  expiresInDays?: number
  /** The bundle the report came from, attached to the same link. */
  bundle?: Uint8Array
  /** Let link holders download the bundle (GET /api/bundles/:id). */
  shareBundle?: boolean
}

/**
 * Shares a report on the worker at `url` and returns its link and delete token.
 * @example
 *   const { url, deleteToken } = await shareReport(report, 'http://127.0.0.1:8787')
 */
export async function shareReport(
  report: Report | string,
  url: string,
  options: ShareOptions = {},
): Promise<ShareCreated> {
  const base = apiBase(url)
  const query = options.expiresInDays ? `?expiresInDays=${options.expiresInDays}` : ''
  const created = await send<ShareCreated>(`${base}/api/reports${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof report === 'string' ? report : JSON.stringify(report),
  })
  if (options.bundle) {
    const attached = await send<{ shared: boolean }>(
      `${base}/api/bundles/${created.id}${options.shareBundle ? '?share=1' : ''}`,
      {
        method: 'PUT',
        headers: {
          'content-type': 'application/zip',
          authorization: `Bearer ${created.deleteToken}`,
        },
        body: options.bundle as Uint8Array<ArrayBuffer>,
      },
    )
    created.hasBundle = true
    created.shared = attached.shared
    if (attached.shared) created.bundleUrl = `${base}/api/bundles/${created.id}`
  }
  return created
}

/**
 * Uploads a bundle zip (POST /api/bundles); the server analyzes it when it fits its budget.
 * @example
 *   const created = await uploadBundle(readFileSync('bundle.zip'), 'http://127.0.0.1:8787')
 *   if (!created.analyzed) await attachReport(created, report, 'http://127.0.0.1:8787')
 */
export async function uploadBundle(
  zip: Uint8Array,
  url: string,
  options: { share?: boolean; expiresInDays?: number } = {},
): Promise<ShareCreated> {
  const params = new URLSearchParams()
  if (options.share) params.set('share', '1')
  if (options.expiresInDays) params.set('expiresInDays', String(options.expiresInDays))
  const query = params.size ? `?${params}` : ''
  return send<ShareCreated>(`${apiBase(url)}/api/bundles${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/zip' },
    body: zip as Uint8Array<ArrayBuffer>,
  })
}

/** Sets the report of a share the server did not analyze (PUT /api/reports/:id). */
export async function attachReport(
  created: ShareCreated,
  report: Report | string,
  url: string,
): Promise<void> {
  await send(`${apiBase(url)}/api/reports/${created.id}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${created.deleteToken}` },
    body: typeof report === 'string' ? report : JSON.stringify(report),
  })
}

/** Accepts `http://host:port`, with or without a trailing slash or `/api/reports`. */
export function apiBase(url: string): string {
  const parsed = new URL(url)
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new Error(`--share needs an http(s) URL, not ${JSON.stringify(url)}`)
  }
  return parsed.origin + parsed.pathname.replace(/\/(api\/reports\/?)?$/, '').replace(/\/+$/, '')
}

async function send<T>(url: string, init: RequestInit): Promise<T> {
  let res: Response
  try {
    res = await fetch(url, init)
  } catch (e) {
    throw new Error(`cannot reach ${new URL(url).origin}: ${(e as Error).message}`)
  }
  const text = await res.text()
  if (!res.ok) {
    let reason = `${res.status} ${res.statusText}`
    try {
      const body = JSON.parse(text) as { message?: string; problems?: string[] }
      if (body.message) reason = `${res.status}: ${body.message}`
      if (body.problems?.length) reason += ` (${body.problems.join('; ')})`
    } catch {
      // not JSON: keep the status line
    }
    throw new Error(`the server refused the upload: ${reason}`)
  }
  return JSON.parse(text) as T
}
