// POST/GET/PUT/DELETE /api/reports inside workerd (test cap: reports ≤ 256 KiB).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { env } from 'cloudflare:workers'
import { createExecutionContext, reset } from 'cloudflare:test'
import { createApp } from '../../worker/app.js'
import { analyzeBundle } from '../../core/analyze.js'
import { openZip } from '../../core/bundle/zip.js'
import { call, countingStream, exampleBundle, upload, type Created } from './helpers.js'

beforeEach(() => reset())
afterEach(() => vi.useRealTimers())

/** A real report: the core's analysis of the example bundle, as the CLI would send it. */
function clientReport(): string {
  return JSON.stringify(analyzeBundle(openZip(exampleBundle()), { version: 'cli-test' }), null, 2)
}

function post(body: BodyInit, type = 'application/json', path = '/api/reports'): Promise<Response> {
  return call(path, { method: 'POST', headers: { 'content-type': type }, body })
}

async function share(body = clientReport()): Promise<Created> {
  const res = await post(body)
  expect(res.status).toBe(201)
  return res.json()
}

/** Everything a client can observe of a response, for "same answer" comparisons. */
async function observable(res: Response) {
  const headers = [...res.headers].filter(([k]) => k !== 'date')
  return { status: res.status, headers, body: await res.text() }
}

describe('POST /api/reports', () => {
  it('stores a report and serves it back byte for byte', async () => {
    const text = clientReport()
    const created = await share(text)
    expect(created).toMatchObject({
      hasReport: true,
      hasBundle: false,
      analyzed: false,
      shared: false,
    })
    expect(created.id).toMatch(/^[A-Za-z0-9_-]{24}$/)
    const res = await call(`/api/reports/${created.id}`)
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(await res.text()).toBe(text)
  })

  it('accepts a charset parameter', async () => {
    expect((await post(clientReport(), 'application/json; charset=utf-8')).status).toBe(201)
  })

  it.each([['text/plain'], ['application/zip'], ['application/x-www-form-urlencoded']])(
    'answers 415 to %s',
    async (type) => {
      const res = await post(clientReport(), type)
      expect(res.status).toBe(415)
      expect(await res.json()).toMatchObject({ error: 'unsupported-media-type' })
    },
  )

  it('answers 400 with the parser reason for malformed JSON', async () => {
    const res = await post('{"schema": "dnsbundle.report/v1", ')
    expect(res.status).toBe(400)
    const body = (await res.json()) as { error: string; message: string }
    expect(body.error).toBe('bad-json')
    expect(body.message).toMatch(/^malformed JSON: .+/)
    expect(body.message).not.toMatch(/\n\s+at /) // no stack
  })

  it('answers 400 for a body that is not UTF-8', async () => {
    const res = await post(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({
      error: 'bad-json',
      message: 'malformed JSON: the body is not valid UTF-8',
    })
  })

  it('answers 422 with every problem for JSON that is not a report', async () => {
    const report = JSON.parse(clientReport())
    report.schema = 'dnsbundle.report/v0'
    report.summary.messages = '41'
    delete report.findings
    const res = await post(JSON.stringify(report))
    expect(res.status).toBe(422)
    expect(await res.json()).toEqual({
      error: 'invalid-report',
      message: 'not a dnsbundle.report/v1 report',
      problems: [
        'schema: expected "dnsbundle.report/v1", got "dnsbundle.report/v0"',
        'summary.messages: expected a count (integer ≥ 0), got "41"',
        'findings: missing',
      ],
    })
  })

  it('answers 413 from Content-Length before reading the body', async () => {
    const { stream, pulled } = countingStream([new Uint8Array(10)])
    const req = new Request('http://dnsbundle.test/api/reports', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(256 * 1024 + 1) },
      body: stream,
    })
    const res = await createApp().fetch(req, env, createExecutionContext())
    expect(res.status).toBe(413)
    expect(pulled()).toBe(0)
  })

  it('answers 413 to a chunked report past the cap', async () => {
    const big = new TextEncoder().encode(' '.repeat(64 * 1024))
    const { stream, pulled } = countingStream(Array.from({ length: 10 }, () => big))
    const req = new Request('http://dnsbundle.test/api/reports', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: stream,
    })
    const res = await createApp().fetch(req, env, createExecutionContext())
    expect(res.status).toBe(413)
    expect(pulled()).toBe(5)
  })
})

describe('GET /api/reports/:id', () => {
  it('gives unknown, malformed and expired ids the same 404', async () => {
    const created = await share()
    expect((await call(`/api/reports/${created.id}`)).status).toBe(200)
    // 31 days later (the worker runs in this isolate, so it sees the faked clock).
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.now() + 31 * 86400e3)
    const expired = await call(`/api/reports/${created.id}`)
    const unknown = await call(`/api/reports/${'x'.repeat(24)}`)
    const malformed = await call('/api/reports/..%2F..%2Fetc%2Fpasswd')
    const a = await observable(expired)
    expect(a.status).toBe(404)
    expect(a.body).toBe('{"error":"not-found","message":"no such report (unknown or expired id)"}')
    expect(await observable(unknown)).toEqual(a)
    expect(await observable(malformed)).toEqual(a)
  })

  it('reads the record once whether the id exists or not', async () => {
    const created = await share()
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.now() + 31 * 86400e3)
    const spy = vi.spyOn(env.REPORTS, 'getWithMetadata')
    for (const id of [created.id, 'y'.repeat(24), 'not-an-id']) {
      spy.mockClear()
      await call(`/api/reports/${id}`)
      expect(spy).toHaveBeenCalledTimes(1)
    }
    spy.mockRestore()
  })
})

describe('DELETE /api/reports/:id', () => {
  const del = (id: string, headers: Record<string, string> = {}) =>
    call(`/api/reports/${id}`, { method: 'DELETE', headers })

  it('needs the delete token: none is 401, a wrong one is 403 and deletes nothing', async () => {
    const created = await share()
    expect((await del(created.id)).status).toBe(401)
    // The right token with its last character changed (to a different one, whatever it was).
    const last = created.deleteToken.at(-1) === 'A' ? 'B' : 'A'
    const wrong = await del(created.id, {
      authorization: `Bearer ${created.deleteToken.slice(0, -1)}${last}`,
    })
    expect(wrong.status).toBe(403)
    expect(await wrong.json()).toMatchObject({ error: 'wrong-token' })
    expect((await call(`/api/reports/${created.id}`)).status).toBe(200)
  })

  it('deletes the report and its bundle with the right token; then the id is a 404', async () => {
    const created = await upload(exampleBundle(), '?share=1')
    expect(await env.BUNDLES.head(`bundles/${created.id}`)).not.toBeNull()
    const res = await del(created.id, { authorization: `Bearer ${created.deleteToken}` })
    expect(res.status).toBe(204)
    expect((await call(`/api/reports/${created.id}`)).status).toBe(404)
    expect((await call(`/api/bundles/${created.id}`)).status).toBe(404)
    expect(await env.BUNDLES.head(`bundles/${created.id}`)).toBeNull()
    expect(await env.REPORTS.get(`share:${created.id}`)).toBeNull()
    expect((await del(created.id, { authorization: `Bearer ${created.deleteToken}` })).status).toBe(
      404,
    )
  })

  it('answers 404 for an unknown id whatever the token', async () => {
    expect((await del('z'.repeat(24), { authorization: 'Bearer whatever' })).status).toBe(404)
  })
})

describe('PUT /api/bundles/:id after POST /api/reports', () => {
  it('lets the owner attach the bundle and share it', async () => {
    const created = await share()
    const zip = exampleBundle()
    const put = (token: string, query = '') =>
      call(`/api/bundles/${created.id}${query}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/zip', authorization: `Bearer ${token}` },
        body: zip,
      })
    expect((await put('wrong')).status).toBe(403)
    expect(await env.BUNDLES.head(`bundles/${created.id}`)).toBeNull()
    const ok = await put(created.deleteToken, '?share=1')
    expect(ok.status).toBe(200)
    expect(await ok.json()).toEqual({ id: created.id, hasBundle: true, shared: true })
    const got = await call(`/api/bundles/${created.id}`)
    expect(new Uint8Array(await got.arrayBuffer())).toEqual(zip)
    // The report the client sent is unchanged.
    expect(await (await call(`/api/reports/${created.id}`)).json()).toEqual(
      JSON.parse(clientReport()),
    )
  })
})
