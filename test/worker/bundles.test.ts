// POST/PUT/GET /api/bundles inside workerd, with the test limits from vitest.config.ts:
// uploads ≤ 24 MiB, server analysis ≤ 1 MiB zip and ≤ 4 MiB inflated.
import { beforeEach, describe, expect, it } from 'vitest'
import { env } from 'cloudflare:workers'
import { createExecutionContext, reset } from 'cloudflare:test'
import { zipSync, strToU8 } from 'fflate'
import { createApp } from '../../worker/app.js'
import { reportJson } from '../../worker/analyze-upload.js'
import { analyzeBundle } from '../../core/analyze.js'
import { openZip } from '../../core/bundle/zip.js'
import pkg from '../../package.json'
import { inject } from 'vitest'
import { call, countingStream, exampleBundle, mixedBundle, sha256, upload } from './helpers.js'

const MiB = 1024 * 1024

// Storage persists across the tests of a file: start each from empty buckets.
beforeEach(() => reset())

async function bytesOf(res: Response): Promise<Uint8Array> {
  return new Uint8Array(await res.arrayBuffer())
}

async function storedBundle(id: string): Promise<Uint8Array | null> {
  const object = await env.BUNDLES.get(`bundles/${id}`)
  return object ? new Uint8Array(await object.arrayBuffer()) : null
}

/** A zip the analysis budget cannot take: random bytes do not compress. */
function incompressibleZip(size: number): Uint8Array {
  const noise = new Uint8Array(size)
  for (let at = 0; at < size; at += 65536) crypto.getRandomValues(noise.subarray(at, at + 65536))
  return zipSync({ 'noise.bin': noise }, { level: 0 })
}

/** A body sent without Content-Length, in chunks of at most 1 MiB. */
function chunked(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let at = 0
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close()
      controller.enqueue(bytes.slice(at, at + MiB))
      at += MiB
    },
  })
}

describe('POST /api/bundles', () => {
  it('stores a real bundle, analyzes it with the core and answers the share', async () => {
    const zip = exampleBundle()
    const before = Date.now()
    const created = await upload(zip)
    expect(created.id).toMatch(/^[A-Za-z0-9_-]{24}$/) // 144 random bits
    expect(created.deleteToken).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(created.url).toBe(`http://dnsbundle.test/r/${created.id}`)
    expect(created).toMatchObject({
      analyzed: true,
      hasReport: true,
      hasBundle: true,
      shared: false,
    })
    const expires = Date.parse(created.expiresAt) - before
    expect(expires).toBeGreaterThanOrEqual(30 * 86400e3 - 60e3)
    expect(expires).toBeLessThanOrEqual(30 * 86400e3 + 60e3)

    const served = await call(`/api/reports/${created.id}`)
    expect(served.status).toBe(200)
    expect(served.headers.get('content-type')).toMatch(/^application\/json/)
    // The server's report is exactly the core's analysis of the same bytes.
    const expected = analyzeBundle(openZip(zip), { version: pkg.version, detail: true })
    expect(await served.json()).toEqual(JSON.parse(JSON.stringify(expected)))
    expect(expected.inputs.map((i) => i.path)).toContain('captures/dns.pcap')
    expect(await storedBundle(created.id)).toEqual(zip)
  })

  it('analyzes dnstap, CoreDNS logs and metrics inside workerd exactly as Node does', async () => {
    const created = await upload(mixedBundle())
    expect(created.analyzed).toBe(true)
    const report = (await (await call(`/api/reports/${created.id}`)).json()) as {
      inputs: { path: string; kind: string; events: number; problems: { message: string }[] }[]
    }
    // Every input recognised and read, nothing the runtime refused (eval, Buffer, ...).
    for (const input of report.inputs) {
      expect(input.kind, input.path).not.toMatch(/^unknown/)
      expect(input.events, input.path).toBeGreaterThan(0)
      expect(input.problems.map((p) => p.message).join('\n')).not.toMatch(
        /internal error|EvalError/,
      )
    }
    expect(report).toEqual(JSON.parse(inject('mixedReportFromNode')))
  })

  it('gives every upload its own id and token', async () => {
    const a = await upload(exampleBundle())
    const b = await upload(exampleBundle())
    expect(a.id).not.toBe(b.id)
    expect(a.deleteToken).not.toBe(b.deleteToken)
  })

  it('keeps the delete token only as its SHA-256', async () => {
    const created = await upload(exampleBundle())
    const { metadata } = await env.REPORTS.getWithMetadata<{ tokenHash: string }>(
      `share:${created.id}`,
    )
    const digest = new Uint8Array(
      await crypto.subtle.digest('SHA-256', new TextEncoder().encode(created.deleteToken)),
    )
    const b64url = btoa(String.fromCharCode(...digest))
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .replace(/=+$/, '')
    expect(metadata?.tokenHash).toBe(b64url)
    const raw = await env.REPORTS.get(`share:${created.id}`)
    expect(raw).not.toContain(created.deleteToken)
  })

  it.each([['text/plain'], ['application/json'], ['multipart/form-data; boundary=x'], [null]])(
    'answers 415 to Content-Type %s',
    async (type) => {
      const res = await call('/api/bundles', {
        method: 'POST',
        headers: type ? { 'content-type': type } : {},
        body: exampleBundle(),
      })
      expect(res.status).toBe(415)
      expect(await res.json()).toMatchObject({ error: 'unsupported-media-type' })
    },
  )

  it('accepts application/octet-stream', async () => {
    const res = await call('/api/bundles', {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: exampleBundle(),
    })
    expect(res.status).toBe(201)
  })

  it('answers 413 from Content-Length before reading a byte of the body', async () => {
    const { stream, pulled } = countingStream([new Uint8Array(1024), new Uint8Array(1024)])
    const req = new Request('http://dnsbundle.test/api/bundles', {
      method: 'POST',
      headers: { 'content-type': 'application/zip', 'content-length': String(25 * MiB) },
      body: stream,
    })
    // In-process (app.fetch), so the body stream is the one the app would read from.
    const res = await createApp().fetch(req, env, createExecutionContext())
    expect(res.status).toBe(413)
    expect(await res.json()).toMatchObject({ error: 'too-large', limit: 24 * MiB })
    expect(pulled()).toBe(0)
  })

  it('answers 413 to a body without Content-Length once it passes the cap, and stores nothing', async () => {
    const chunk = new Uint8Array(MiB)
    chunk.set([0x50, 0x4b, 0x03, 0x04])
    const { stream, pulled } = countingStream(Array.from({ length: 40 }, () => chunk))
    const req = new Request('http://dnsbundle.test/api/bundles', {
      method: 'POST',
      headers: { 'content-type': 'application/zip' },
      body: stream,
    })
    const res = await createApp().fetch(req, env, createExecutionContext())
    expect(res.status).toBe(413)
    expect(pulled()).toBeLessThan(40) // stopped reading at the cap
    expect(pulled()).toBeGreaterThanOrEqual(24)
    expect((await env.BUNDLES.list()).objects).toEqual([])
  })

  it('answers 400 to an upload cut off midway, and stores nothing', async () => {
    let sent = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ === 0) controller.enqueue(exampleBundle().subarray(0, 1000))
        else controller.error(new Error('connection reset'))
      },
    })
    const req = new Request('http://dnsbundle.test/api/bundles', {
      method: 'POST',
      headers: { 'content-type': 'application/zip' },
      body,
    })
    const res = await createApp().fetch(req, env, createExecutionContext())
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ error: 'incomplete' })
    expect((await env.BUNDLES.list()).objects).toEqual([])
  })

  it('refuses a body that is not a zip, with the reason', async () => {
    const res = await call('/api/bundles', {
      method: 'POST',
      headers: { 'content-type': 'application/zip' },
      body: strToU8('this is a pcap, honest'),
    })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ error: 'not-a-zip' })
    expect((await env.BUNDLES.list()).objects).toEqual([])
  })

  it('refuses an empty body', async () => {
    const res = await call('/api/bundles', {
      method: 'POST',
      headers: { 'content-type': 'application/zip' },
      body: new Uint8Array(0),
    })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ error: 'empty' })
  })

  it('streams a bundle over the analysis budget straight to R2 and leaves the report to the client', async () => {
    const zip = incompressibleZip(3 * MiB)
    const created = await upload(zip)
    expect(created).toMatchObject({ analyzed: false, hasReport: false, hasBundle: true })
    expect(created.reason).toMatch(/server analysis budget/)
    expect(await sha256(await storedBundle(created.id))).toBe(await sha256(zip))
    expect((await call(`/api/reports/${created.id}`)).status).toBe(404)
  })

  it('streams a chunked upload over the budget through an R2 multipart upload, byte-identical', async () => {
    const zip = incompressibleZip(19 * MiB) // three 8 MiB parts: 8 + 8 + 3
    const res = await call('/api/bundles?share=1', {
      method: 'POST',
      headers: { 'content-type': 'application/zip' },
      body: chunked(zip),
      // @ts-expect-error: workerd needs no duplex, the DOM types want it
      duplex: 'half',
    })
    expect(res.status).toBe(201)
    const created = (await res.json()) as { id: string; analyzed: boolean }
    expect(created.analyzed).toBe(false)
    const stored = await storedBundle(created.id)
    expect(stored?.length).toBe(zip.length)
    expect(await sha256(stored)).toBe(await sha256(zip))
  })

  it('analyzes a small chunked upload like any other', async () => {
    const zip = exampleBundle()
    const res = await call('/api/bundles', {
      method: 'POST',
      headers: { 'content-type': 'application/zip' },
      body: chunked(zip),
      // @ts-expect-error: see above
      duplex: 'half',
    })
    expect(res.status).toBe(201)
    expect(await res.json()).toMatchObject({ analyzed: true })
  })

  it('does not analyze a zip whose entries declare more than the inflated budget', async () => {
    const zip = zipSync({ 'zeros.bin': new Uint8Array(20 * MiB) }, { level: 9 })
    expect(zip.length).toBeLessThan(MiB)
    const created = await upload(zip)
    expect(created.analyzed).toBe(false)
    expect(created.reason).toMatch(/inflates to 20971520 bytes/)
  })

  it('contains a zip bomb whose headers lie about its size', async () => {
    const zip = zipSync({ 'bomb.pcap': new Uint8Array(20 * MiB) }, { level: 9 })
    lieAboutSizes(zip, 1000)
    const created = await upload(zip)
    expect(created.analyzed).toBe(true)
    const report = (await (await call(`/api/reports/${created.id}`)).json()) as {
      inputs: { path: string; skipped?: string }[]
    }
    const bomb = report.inputs.find((i) => i.path === 'bomb.pcap')
    // Stopped while inflating: by the ratio budget or the per-entry cap, whichever comes first.
    expect(bomb?.skipped).toMatch(/zip bomb|4194304-byte entry limit/)
  })

  it('bounds the number of entries it reads', async () => {
    const files: Record<string, Uint8Array> = {}
    for (let i = 0; i < 1005; i++) files[`f${i}.txt`] = strToU8('x')
    const created = await upload(zipSync(files))
    const report = (await (await call(`/api/reports/${created.id}`)).json()) as {
      inputs: { path: string; skipped?: string }[]
    }
    expect(report.inputs.some((i) => /more than 1000 entries/.test(i.skipped ?? ''))).toBe(true)
    expect(report.inputs.filter((i) => /^f\d+\.txt$/.test(i.path)).length).toBe(1000)
  })

  it('never uses entry names as paths: hostile names are display strings, storage keys are ids', async () => {
    const pcap = openZip(exampleBundle()).files[0].bytes
    const names = [
      '../../../etc/passwd',
      '/abs/evil.pcap',
      'C:\\Windows\\evil.pcap',
      'a/../../b\u0000.pcap',
    ]
    const created = await upload(zipSync(Object.fromEntries(names.map((n) => [n, pcap]))))
    const report = (await (await call(`/api/reports/${created.id}`)).json()) as {
      inputs: { path: string }[]
    }
    expect(report.inputs.map((i) => i.path).sort()).toEqual(
      ['../../../etc/passwd', '/abs/evil.pcap', 'C:\\Windows\\evil.pcap', 'a/../../b?.pcap'].sort(),
    )
    const keys = (await env.BUNDLES.list()).objects.map((o) => o.key)
    expect(keys).toEqual([`bundles/${created.id}`])
    const records = (await env.REPORTS.list()).keys.map((k) => k.name)
    expect(records).toEqual([`share:${created.id}`])
  })

  it('takes a shorter expiry when asked and refuses one out of range', async () => {
    const before = Date.now()
    const created = await upload(exampleBundle(), '?expiresInDays=7')
    expect(Math.abs(Date.parse(created.expiresAt) - before - 7 * 86400e3)).toBeLessThan(60e3)
    for (const bad of ['0', '91', '1.5', 'soon']) {
      const res = await call(`/api/bundles?expiresInDays=${bad}`, {
        method: 'POST',
        headers: { 'content-type': 'application/zip' },
        body: exampleBundle(),
      })
      expect(res.status).toBe(400)
      expect(await res.json()).toMatchObject({ error: 'bad-expiry' })
    }
  })
})

describe('GET /api/bundles/:id', () => {
  it('downloads a bundle the uploader shared, byte-identical', async () => {
    const zip = exampleBundle()
    const created = await upload(zip, '?share=1')
    expect(created.bundleUrl).toBe(`http://dnsbundle.test/api/bundles/${created.id}`)
    const res = await call(`/api/bundles/${created.id}`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/zip')
    expect(res.headers.get('content-disposition')).toBe(
      `attachment; filename="dnsbundle-${created.id}.zip"`,
    )
    expect(await bytesOf(res)).toEqual(zip)
  })

  it('answers the unknown-id 404 for a bundle that was not shared', async () => {
    const created = await upload(exampleBundle())
    expect(created.bundleUrl).toBeUndefined()
    const unshared = await call(`/api/bundles/${created.id}`)
    const unknown = await call(`/api/bundles/${'A'.repeat(24)}`)
    expect(unshared.status).toBe(404)
    expect(await unshared.text()).toBe(await unknown.text())
  })
})

describe('PUT /api/reports/:id after an upload the server did not analyze', () => {
  it('lets the owner attach the report the client made', async () => {
    const created = await upload(incompressibleZip(2 * MiB))
    expect(created.analyzed).toBe(false)
    const report = JSON.stringify(analyzeBundle(openZip(exampleBundle()), { version: 'client' }))
    const put = (token: string) =>
      call(`/api/reports/${created.id}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: report,
      })
    expect((await put('not-the-token')).status).toBe(403)
    expect((await put(created.deleteToken)).status).toBe(200)
    const res = await call(`/api/reports/${created.id}`)
    expect(await res.text()).toBe(report)
  })
})

describe('reportJson', () => {
  it('keeps the detail lists when they fit and drops them when they would pass the limit', () => {
    const report = analyzeBundle(openZip(exampleBundle()), { version: 't', detail: true })
    const small = reportJson(report, 1024 * 1024)
    expect(JSON.parse(small)).toEqual(JSON.parse(JSON.stringify(report)))
    const huge = {
      ...report,
      transactions: Array.from({ length: 5000 }, () => ({ qname: 'x'.repeat(100) })),
    }
    const cut = JSON.parse(reportJson(huge as never, 64 * 1024))
    expect(cut.transactions).toBeUndefined()
    expect(cut.lookups).toBeUndefined()
    expect(cut.summary).toEqual(JSON.parse(JSON.stringify(report.summary)))
  })
})

/** Rewrites a one-entry zip's declared uncompressed size (local header and central directory). */
function lieAboutSizes(zip: Uint8Array, size: number): void {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength)
  expect(view.getUint32(0, true)).toBe(0x04034b50)
  view.setUint32(22, size, true) // local file header: uncompressed size
  for (let at = 0; at < zip.length - 4; at++) {
    if (view.getUint32(at, true) === 0x02014b50) view.setUint32(at + 24, size, true) // central directory
  }
}
