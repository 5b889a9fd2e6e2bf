// End to end: the worker under `wrangler dev` on loopback, started exactly as `npm start` starts it
// (collector/serve.ts), driven over HTTP and from Chromium. Upload a real bundle, see the report
// in the web app at /r/:id, delete it, restart, and find the persisted reports still there.
import { spawn } from 'node:child_process'
import { corpus } from '../corpus.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServer, connect } from 'node:net'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { BrowserContext } from 'playwright-core'
import { launchChromium } from '../support/chromium.js'
import { build } from 'esbuild'
import { Miniflare } from 'miniflare'
import { serve, type RunningServer } from '../../collector/serve.js'
import { apiBase, shareReport, uploadBundle, type ShareCreated } from '../../collector/share.js'

const root = resolve(import.meta.dirname, '../..')
const exampleZip = new Uint8Array(readFileSync(join(root, 'examples/incident-bundle.zip')))

/**
 * The web app under test: web/dist when it is built (or buildable: serve() runs build:web when
 * web/ exists); otherwise the stand-in page in test/fixtures/worker-assets, which follows the
 * same DOM contract (the report under data-testid="report").
 */
const assetsDir =
  existsSync(join(root, 'web/dist/index.html')) || existsSync(join(root, 'web/vite.config.ts'))
    ? undefined
    : join(root, 'test/fixtures/worker-assets')

let tmp: string
let port: number
let server: RunningServer | undefined
let browser: BrowserContext | undefined

async function start(): Promise<RunningServer> {
  server = await serve({ port, persistTo: join(tmp, 'state'), assetsDir, log: () => {} })
  return server
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'dnsbundle-e2e-'))
  port = await freePort(8800, 8899)
  await start()
  browser = await launchChromium(join(tmp, 'chromium'))
})

afterAll(async () => {
  await browser?.close()
  await server?.stop()
  if (tmp) rmSync(tmp, { recursive: true, force: true })
})

/** Opens /r/:id and returns what the page shows, plus any CSP violations it logged. */
async function openShare(url: string, testid: 'report' | 'error') {
  const page = await browser!.newPage()
  const violations: string[] = []
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text())
  })
  const reportRequest = page.waitForResponse((r) => r.url().includes('/api/reports/'))
  const res = await page.goto(url)
  const api = await reportRequest
  const box = page.locator(`[data-testid="${testid}"]`).first()
  await box.waitFor({ state: 'visible', timeout: 30_000 })
  const text = await box.innerText()
  await page.close()
  return { status: res?.status(), apiStatus: api.status(), text, violations }
}

describe('worker under wrangler dev', () => {
  let shared: ShareCreated
  let kept: ShareCreated
  let keptReport: string

  it('answers 413 to an announced oversized upload (wrangler dev)', async () => {
    // wrangler dev's own proxy in front of workerd takes the whole body before it forwards the
    // answer (see the Miniflare test below for the worker's behaviour on the wire), so send a
    // body that is over the limit but quick to send.
    const res = await fetch(`${server!.url}/api/bundles`, {
      method: 'POST',
      headers: { 'content-type': 'application/zip' },
      body: new Uint8Array(100 * 1024 * 1024 + 1),
    })
    expect(res.status).toBe(413)
    expect(await res.json()).toMatchObject({ error: 'too-large', limit: 100 * 1024 * 1024 })
  })

  it('uploads a real bundle, analyzes it, and Chromium shows the report at its link', async () => {
    shared = await uploadBundle(exampleZip, server!.url, { share: true })
    expect(shared).toMatchObject({ analyzed: true, hasReport: true, shared: true })
    expect(shared.url).toBe(`${server!.url}/r/${shared.id}`)
    const report = (await (await fetch(shared.reportUrl)).json()) as {
      inputs: { path: string }[]
      summary: { messages: number }
    }
    expect(report.inputs.map((i) => i.path)).toContain('captures/dns.pcap')

    const seen = await openShare(shared.url, 'report')
    expect(seen.status).toBe(200)
    expect(seen.apiStatus).toBe(200)
    // The page shows this report's numbers (web app: "N DNS messages"; stand-in: "N messages").
    expect(seen.text).toMatch(new RegExp(`\\b${report.summary.messages} (DNS )?messages\\b`))
    expect(seen.violations).toEqual([])
  })

  it('shares a report from the CLI path (shareReport) and serves it byte for byte', async () => {
    keptReport = await (await fetch(shared.reportUrl)).text()
    kept = await shareReport(keptReport, server!.url, { bundle: exampleZip, shareBundle: true })
    const res = await fetch(kept.reportUrl)
    expect(await res.text()).toBe(keptReport)
    const zip = new Uint8Array(await (await fetch(kept.bundleUrl!)).arrayBuffer())
    expect(zip).toEqual(exampleZip)
  })

  it('dnsbundle analyze --share uploads the report and prints its link', async () => {
    const cli = resolve(import.meta.dirname, '../../dist/dnsbundle.mjs')
    const out = await new Promise<{ code: number | null; stderr: string }>((done) => {
      const child = spawn(
        process.execPath,
        [
          cli,
          'analyze',
          corpus('pcap/dnscap/dns.pcap'),
          '--format',
          'json',
          '--share',
          server!.url,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      )
      let stderr = ''
      child.stderr.on('data', (d) => (stderr += d))
      child.on('close', (code) => done({ code, stderr }))
    })
    expect(out.code).toBe(0)
    const link = /shared at (\S+)/.exec(out.stderr)?.[1]
    expect(link).toMatch(new RegExp(`^${server!.url}/r/[A-Za-z0-9_-]{22,}$`))
    const id = link!.split('/').pop()
    const report = (await (await fetch(`${server!.url}/api/reports/${id}`)).json()) as {
      summary: { transactions: number }
    }
    expect(report.summary.transactions).toBe(41)
    expect(out.stderr).toMatch(/delete with: curl -X DELETE -H 'Authorization: Bearer [\w-]+'/)
  })

  it('passes the server refusal on to the CLI, with the reasons', async () => {
    await expect(shareReport('{"schema":"dnsbundle.report/v1"}', server!.url)).rejects.toThrow(
      /the server refused the upload: 422: not a dnsbundle\.report\/v1 report \(generator: missing; /,
    )
  })

  it('deletes a report with its token; then the API and the page say it is gone', async () => {
    const wrong = await fetch(`${server!.url}/api/reports/${shared.id}`, {
      method: 'DELETE',
      headers: { authorization: 'Bearer not-the-token' },
    })
    expect(wrong.status).toBe(403)
    const res = await fetch(`${server!.url}/api/reports/${shared.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${shared.deleteToken}` },
    })
    expect(res.status).toBe(204)
    expect((await fetch(shared.reportUrl)).status).toBe(404)
    expect((await fetch(`${server!.url}/api/bundles/${shared.id}`)).status).toBe(404)
    const seen = await openShare(shared.url, 'error')
    expect(seen.apiStatus).toBe(404)
  })

  it('refuses to start a second server on a port in use', async () => {
    await expect(
      serve({ port, persistTo: join(tmp, 'other'), assetsDir, log: () => {} }),
    ).rejects.toThrow(/cannot listen on 127\.0\.0\.1:\d+ \(EADDRINUSE\)/)
  })

  it('runs the expiry sweep, which keeps live reports', async () => {
    await server!.sweep()
    expect((await fetch(kept.reportUrl)).status).toBe(200)
  })

  it('keeps reports and bundles across a restart (--persist-to)', async () => {
    await server!.stop()
    await start()
    const res = await fetch(`${server!.url}/api/reports/${kept.id}`)
    expect(res.status).toBe(200)
    expect(await res.text()).toBe(keptReport)
    const zip = new Uint8Array(
      await (await fetch(`${server!.url}/api/bundles/${kept.id}`)).arrayBuffer(),
    )
    expect(zip).toEqual(exampleZip)
    expect((await fetch(`${server!.url}/api/reports/${shared.id}`)).status).toBe(404)
    const seen = await openShare(`${server!.url}/r/${kept.id}`, 'report')
    expect(seen.apiStatus).toBe(200)
  })
})

describe('worker in workerd over raw HTTP (Miniflare, no dev proxy)', () => {
  let mf: Miniflare | undefined
  let mfPort: number

  beforeAll(async () => {
    // The worker exactly as wrangler bundles it, run by the same workerd.
    const built = await build({
      entryPoints: [join(root, 'worker/index.ts')],
      bundle: true,
      format: 'esm',
      platform: 'neutral',
      target: 'es2022',
      conditions: ['workerd', 'worker', 'browser'],
      write: false,
      logLevel: 'silent',
    })
    mfPort = await freePort(8800, 8899)
    mf = new Miniflare({
      modules: true,
      script: built.outputFiles[0].text,
      compatibilityDate: '2026-04-01',
      host: '127.0.0.1',
      port: mfPort,
      r2Buckets: ['BUNDLES'],
      kvNamespaces: ['REPORTS'],
    })
    await mf.ready
  })

  afterAll(async () => {
    await mf?.dispose()
  })

  it('answers 413 from Content-Length before one byte of the body is sent', async () => {
    // Headers announce 200 MB; no body byte follows, and the whole answer still comes back.
    const answer = await rawRequest(
      mfPort,
      'POST /api/bundles HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/zip\r\n' +
        'Content-Length: 200000000\r\n\r\n',
    )
    expect(answer).toMatch(/^HTTP\/1\.1 413 /)
    expect(answer).toContain('"error":"too-large"')
    expect(answer).toMatch(/content-security-policy: default-src 'self'/i)
  })
})

describe('apiBase (dnsbundle analyze --share URL)', () => {
  it.each([
    ['http://127.0.0.1:8787', 'http://127.0.0.1:8787'],
    ['http://127.0.0.1:8787/', 'http://127.0.0.1:8787'],
    ['http://127.0.0.1:8787/api/reports', 'http://127.0.0.1:8787'],
    ['https://dnsbundle.example.com/team/', 'https://dnsbundle.example.com/team'],
  ])('%s -> %s', (url, base) => expect(apiBase(url)).toBe(base))

  it('refuses what is not http(s)', () => {
    expect(() => apiBase('file:///etc/passwd')).toThrow(/needs an http\(s\) URL/)
  })
})

/** A port in [from, to] that nothing listens on right now (random start, to spread tests out). */
async function freePort(from: number, to: number): Promise<number> {
  const span = to - from + 1
  const offset = Math.floor(Math.random() * span)
  for (let i = 0; i < span; i++) {
    const candidate = from + ((offset + i) % span)
    const ok = await new Promise<boolean>((done) => {
      const probe = createServer()
      probe.once('error', () => done(false))
      probe.listen(candidate, '127.0.0.1', () => probe.close(() => done(true)))
    })
    if (ok) return candidate
  }
  throw new Error(`no free port in ${from}-${to}`)
}

/** Sends raw bytes and returns what came back once the answer is complete, the server closes, or 10 s pass. */
function rawRequest(port: number, head: string): Promise<string> {
  return new Promise((done, fail) => {
    const socket = connect(port, '127.0.0.1')
    let answer = ''
    const finish = () => {
      socket.destroy()
      done(answer)
    }
    socket.setTimeout(10_000, finish)
    socket.on('error', (e) => (answer ? finish() : fail(e)))
    socket.on('data', (chunk) => {
      answer += chunk.toString()
      // Headers and the (small, known-length) JSON body are in: stop.
      const end = answer.indexOf('\r\n\r\n')
      const length = /content-length: (\d+)/i.exec(answer)
      if (end >= 0 && length && answer.length >= end + 4 + Number(length[1])) finish()
    })
    socket.on('end', finish)
    socket.write(head)
  })
}
