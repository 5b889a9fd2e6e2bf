// The web app in real Chromium (Debian's /usr/bin/chromium through playwright-core): the build is
// served under the strict CSP the worker sends, files are dropped or chosen, and what the page
// shows is checked against the core run in Node on the same bytes.
import { corpus } from '../corpus.js'
import { launchChromium } from '../support/chromium.js'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { basename, extname, join, resolve, sep } from 'node:path'
import { strToU8, zipSync } from 'fflate'
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { analyzeBundle } from '../../core/analyze.js'
import { openZip, withManifest } from '../../core/bundle/zip.js'
import type { Report, ReportTransaction } from '../../core/model/report.js'

const ROOT = resolve(import.meta.dirname, '../..')
const DNSCAP_PCAP = corpus('pcap/dnscap/dns.pcap')
const HOSTILE = '<img src=x onerror=alert(1)>.example.'
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
  "worker-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

const require = createRequire(import.meta.url)
const dnsPacket = require('dns-packet') as { encode(p: object): Uint8Array }

let server: Server
let origin = ''
let context: BrowserContext
let profile = ''
let work = ''
/** The build under test: its own folder, so a concurrent `npm start` keeps web/dist. */
let DIST = ''
/** Reports served at /api/reports/:id, and what the page POSTed to /api/reports. */
const stored = new Map<string, string>()
const posted: string[] = []

/** What the core computes in Node for the same files, with the names the browser gives them. */
function coreReport(paths: string[]): Report {
  const files = paths.map((p) => ({ path: basename(p), bytes: new Uint8Array(readFileSync(p)) }))
  return analyzeBundle(withManifest(files), { detail: true })
}

// ---------------------------------------------------------------- server and browser

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
  '.json': 'application/json',
}

function handle(req: IncomingMessage, res: ServerResponse) {
  res.setHeader('content-security-policy', CSP)
  res.setHeader('x-content-type-options', 'nosniff')
  const url = new URL(req.url ?? '/', origin)
  const api = /^\/api\/reports\/([A-Za-z0-9_-]+)$/.exec(url.pathname)
  if (api) {
    const body = stored.get(api[1])
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' })
    return res.end(body ?? '{"error":"not found"}')
  }
  if (url.pathname === '/api/reports' && req.method === 'POST') {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      posted.push(body)
      const id = `shared${posted.length}`
      stored.set(id, body)
      res.writeHead(201, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify({
          id,
          url: `/r/${id}`,
          deleteToken: 'tok',
          expiresAt: '2030-01-01T00:00:00Z',
        }),
      )
    })
    return
  }
  let file = resolve(DIST, '.' + decodeURIComponent(url.pathname))
  if (!file.startsWith(DIST + sep) || !isFile(file)) file = join(DIST, 'index.html') // SPA fallback
  res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' })
  res.end(readFileSync(file))
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile()
  } catch {
    return false
  }
}

async function listenInRange(from: number, to: number): Promise<number> {
  for (let port = from; port <= to; port++) {
    const ok = await new Promise<boolean>((done) => {
      server.once('error', () => done(false))
      server.listen(port, '127.0.0.1', () => done(true))
    })
    if (ok) return port
  }
  throw new Error(`no free port in ${from}-${to}`)
}

interface Watch {
  page: Page
  workers: string[]
  dialogs: string[]
  problems: string[]
  progressPhases(): Promise<string[]>
  /** No CSP violation, no page error, no dialog (a hostile name did not run), no outside request. */
  assertClean(): Promise<void>
}

const outside: string[] = []

async function open(path = '/'): Promise<Watch> {
  const page = await context.newPage()
  const w: Watch = {
    page,
    workers: [],
    dialogs: [],
    problems: [],
    progressPhases: () =>
      page.evaluate(() => (window as unknown as { __phases: string[] }).__phases),
    async assertClean() {
      const violations = await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp)
      expect(violations).toEqual([])
      expect(w.problems).toEqual([])
      expect(w.dialogs).toEqual([])
      expect(outside).toEqual([])
      expect(await page.locator('img').count()).toBe(0)
    },
  }
  page.on('worker', (worker) => w.workers.push(worker.url()))
  page.on('dialog', (d) => {
    w.dialogs.push(d.message())
    void d.dismiss()
  })
  page.on('pageerror', (e) => w.problems.push(`pageerror: ${e.message}`))
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy|Refused to/.test(m.text()))
      w.problems.push(`console ${m.type()}: ${m.text()}`)
  })
  await page.goto(origin + path)
  // Record every progress phase the page shows, however briefly.
  await page.evaluate(() => {
    const seen: string[] = ((window as unknown as { __phases: string[] }).__phases = [])
    new MutationObserver(() => {
      const p = document.querySelector<HTMLElement>('[data-testid=progress]')?.dataset.phase
      if (p && seen[seen.length - 1] !== p) seen.push(p)
    }).observe(document.getElementById('status')!, { childList: true, subtree: true })
  })
  return w
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'dnsbundle-web-'))
  DIST = join(work, 'dist')
  const vite = join(ROOT, 'node_modules/vite/bin/vite.js')
  execFileSync(
    process.execPath,
    [
      vite,
      'build',
      '--config',
      'web/vite.config.ts',
      '--outDir',
      DIST,
      '--emptyOutDir',
      '--logLevel',
      'warn',
    ],
    { cwd: ROOT, stdio: 'inherit' },
  )
  server = createServer(handle)
  const port = await listenInRange(8900, 8949)
  origin = `http://127.0.0.1:${port}`
  profile = mkdtempSync(join(tmpdir(), 'dnsbundle-chromium-'))
  context = await launchChromium(profile, {
    viewport: { width: 1400, height: 900 },
  })
  await context.addInitScript(() => {
    const log: string[] = ((window as unknown as { __csp: string[] }).__csp = [])
    document.addEventListener('securitypolicyviolation', (e) =>
      log.push(`${e.violatedDirective} ${e.blockedURI}`),
    )
  })
  context.on('request', (r) => {
    const u = new URL(r.url())
    if (!['http:', 'https:', 'ws:', 'wss:'].includes(u.protocol)) return
    if (u.hostname !== '127.0.0.1' && u.hostname !== 'localhost') outside.push(r.url())
  })
})

afterAll(async () => {
  await context?.close()
  await new Promise((done) => (server ? server.close(done) : done(null)))
  if (profile) rmSync(profile, { recursive: true, force: true })
  if (work) rmSync(work, { recursive: true, force: true })
})

async function waitForReport(page: Page) {
  await page.waitForSelector('[data-testid="report"]', { timeout: 60_000 })
}

// ---------------------------------------------------------------- analysis in the tab

describe('web app: local analysis', () => {
  it('shows the transactions of a dropped capture, analyzed in a Web Worker', async () => {
    const expected = coreReport([DNSCAP_PCAP])
    expect(expected.summary.transactions).toBeGreaterThan(0)
    const w = await open()
    await w.page.setInputFiles('[data-testid=file-input]', DNSCAP_PCAP)
    await waitForReport(w.page)
    expect(w.workers.some((u) => /analysis\.worker/.test(u))).toBe(true)
    expect(await w.progressPhases()).toEqual(expect.arrayContaining(['read', 'import', 'report']))
    const count = w.page.getByTestId('tx-count')
    expect(await count.getAttribute('data-total')).toBe(String(expected.summary.transactions))
    expect(await w.page.locator('[data-counter=transactions] .counter-value').textContent()).toBe(
      expected.summary.transactions.toLocaleString('en-US'),
    )
    expect(await w.page.getByTestId('tx-row').count()).toBeGreaterThan(0)
    const names = new Set((expected.transactions ?? []).map((t) => t.qname))
    const shown = await w.page.locator('[data-testid=tx-row] .c-name').allTextContents()
    for (const n of shown) expect(names.has(n)).toBe(true)
    await w.assertClean()
    await w.page.close()
  })

  it('renders a hostile qname from a capture as text', async () => {
    // A real DNS query (dns-packet) wrapped in UDP/IPv4 by Wireshark's text2pcap.
    const query = dnsPacket.encode({
      type: 'query',
      id: 4242,
      flags: 1 << 8,
      questions: [{ type: 'A', name: HOSTILE.slice(0, -1) }],
    })
    const hex = Array.from(query, (b) => b.toString(16).padStart(2, '0')).join(' ')
    writeFileSync(join(work, 'hostile.txt'), `0000 ${hex}\n`)
    const pcap = join(work, 'hostile.pcap')
    execFileSync('text2pcap', [
      '-q',
      '-F',
      'pcap',
      '-4',
      '10.0.0.1,10.0.0.53',
      '-u',
      '40000,53',
      join(work, 'hostile.txt'),
      pcap,
    ])
    const expected = coreReport([pcap])
    expect(expected.summary.transactions).toBe(1)
    const qname = expected.transactions![0].qname
    expect(qname).toContain('<img')
    const w = await open()
    await w.page.setInputFiles('[data-testid=file-input]', pcap)
    await waitForReport(w.page)
    await expect
      .poll(() => w.page.locator('[data-testid=tx-row] .c-name').allTextContents())
      .toEqual([qname])
    await w.page.locator('[data-testid=tx-row]').first().click()
    await expect.poll(() => w.page.getByTestId('tx-detail').textContent()).toContain(qname)
    await w.assertClean()
    await w.page.close()
  })

  it('lists an unknown file as skipped, with the reason the core gives', async () => {
    const notes = join(work, 'notes.txt')
    writeFileSync(notes, 'These are the notes of the on-call engineer, not evidence.\n')
    const expected = coreReport([notes])
    const reason = expected.inputs.find((i) => i.path === 'notes.txt')?.skipped
    expect(reason).toBeTruthy()
    const w = await open()
    await w.page.setInputFiles('[data-testid=file-input]', notes)
    await waitForReport(w.page)
    expect(w.workers.some((u) => /analysis\.worker/.test(u))).toBe(true)
    const row = w.page.locator('[data-testid=skipped-input][data-input="notes.txt"]')
    await expect.poll(() => row.locator('.reason').textContent()).toBe(reason)
    expect(await w.page.getByTestId('verdict').textContent()).toMatch(/No root cause identified/)
    await w.assertClean()

    // Share: the page posts the report it made and shows the link the server returned.
    await w.page.locator('#share').click()
    await expect
      .poll(() => w.page.getByTestId('share-url').inputValue())
      .toBe(`${origin}/r/shared1`)
    const sent = JSON.parse(posted[0]) as Report
    expect(sent.schema).toBe('dnsbundle.report/v1')
    expect(sent.inputs.map((i) => i.path)).toEqual(['notes.txt'])
    await w.page.close()
  })

  it('opens a dropped zip bundle: entries are analyzed, the manifest is read, unknown entries skipped', async () => {
    const manifest = {
      schema: 'dnsbundle.manifest/v1',
      files: [{ path: 'node-1/readme.md', vantage: { id: 'node-1', type: 'node' } }],
    }
    const zip = zipSync({
      'manifest.json': strToU8(JSON.stringify(manifest)),
      'node-1/readme.md': strToU8('# collected on node-1\n'),
      'empty.bin': new Uint8Array(0),
    })
    const expected = analyzeBundle(openZip(zip), { detail: true })
    const w = await open()
    // Dropped rather than chosen: a DragEvent carrying the file, as a browser drop delivers it.
    await w.page.evaluate((bytes) => {
      const dt = new DataTransfer()
      dt.items.add(new File([new Uint8Array(bytes)], 'bundle.zip', { type: 'application/zip' }))
      const zone = document.querySelector('[data-testid=drop-zone]')!
      zone.dispatchEvent(
        new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }),
      )
    }, Array.from(zip))
    await waitForReport(w.page)
    const rows = w.page.locator('[data-testid=skipped-input]')
    const shown = await rows.evaluateAll((els) =>
      els.map((e) => [(e as HTMLElement).dataset.input, e.querySelector('.reason')?.textContent]),
    )
    expect(shown).toEqual(expected.inputs.filter((i) => i.skipped).map((i) => [i.path, i.skipped]))
    expect(shown.map((s) => s[0])).toEqual(['node-1/readme.md', 'empty.bin'])
    expect(await w.page.getByTestId('inputs').textContent()).toContain('node-1')
    await w.assertClean()
    await w.page.close()
  })
})

// ---------------------------------------------------------------- shared reports (/r/:id)

/** A report of `n` transactions shaped as the core writes them, with hostile strings planted. */
function bigReport(n: number): Report {
  const t0 = 1_700_000_000_000_000
  const txs: ReportTransaction[] = []
  const rcodes: Record<string, number> = {}
  const qtypes: Record<string, number> = {}
  let unanswered = 0
  for (let i = 0; i < n; i++) {
    const answered = i % 10 !== 0
    const rcode = answered ? (i % 7 === 0 ? 'NXDOMAIN' : 'NOERROR') : null
    const qtype = ['A', 'AAAA', 'SRV'][i % 3]
    const time = t0 + i * 1000
    const qname = i === 12345 ? HOSTILE : `svc-${i % 5000}.ns.svc.cluster.local.`
    txs.push({
      client: `10.1.${(i >> 8) & 255}.${i & 255}`,
      clientPort: 30000 + (i % 30000),
      server: '10.96.0.10',
      lookup: -1,
      transport: 'udp',
      id: i % 65536,
      qname,
      qtype,
      answered,
      rcode,
      copies: i % 13 === 0 ? 3 : 1,
      firstSent: time,
      latencyMs: answered ? ((i * 7919) % 50_000) / 10 : null,
      hops: [
        {
          vantage: 'pod/web-1',
          time,
          what: 'query sent',
          input: 'pod.pcap',
          where: `packet ${i + 1}`,
        },
        {
          vantage: 'node/node-1',
          time: time + 40,
          what: 'query forwarded',
          input: 'node.pcap',
          where: `packet ${i + 1}`,
        },
        ...(answered
          ? [
              {
                vantage: 'pod/web-1',
                time: time + 900,
                what: `response ${rcode}`,
                input: 'pod.pcap',
                where: `packet ${n + i + 1}`,
              },
            ]
          : []),
      ],
      lastSeen: answered ? 'pod/web-1' : 'node/node-1',
    })
    if (answered) rcodes[rcode!] = (rcodes[rcode!] ?? 0) + 1
    else unanswered++
    qtypes[qtype] = (qtypes[qtype] ?? 0) + 1
  }
  return {
    schema: 'dnsbundle.report/v1',
    generator: { name: 'dnsbundle', version: 'test' },
    inputs: [
      {
        path: HOSTILE,
        kind: 'pcap',
        vantage: 'pod/web-1',
        events: n,
        problems: [{ where: 'packet 9', message: HOSTILE }],
      },
      {
        path: 'junk.bin',
        kind: 'unknown',
        vantage: '',
        events: 0,
        problems: [],
        skipped: 'unrecognised binary format (magic 00 01 02 03)',
      },
    ],
    vantages: [{ id: 'pod/web-1', type: 'pod', name: HOSTILE, addresses: ['10.1.0.1'] }],
    summary: {
      messages: 2 * n,
      clientQueries: n,
      transactions: n,
      retransmits: 0,
      responses: n - unanswered,
      unanswered,
      lookups: 0,
      failedLookups: 0,
      searchExpansionQueries: 0,
      aaaaQueries: qtypes.AAAA,
      aaaaNoData: 0,
      forwarderQueries: 0,
      forwarderUnanswered: 0,
      rcodes,
      qtypes,
      latencyMs: { p50: 2500, p90: 4500, p99: 4950, max: 4999.9 },
      servers: [
        {
          server: 'dns/coredns-a',
          address: '10.244.1.3',
          transactions: 30,
          failed: 0,
          unanswered: 0,
          servfail: 0,
          refused: 0,
          failureRate: 0,
          medianMs: 1,
        },
        {
          server: HOSTILE,
          address: '10.244.2.4',
          transactions: 30,
          failed: 12,
          unanswered: 6,
          servfail: 6,
          refused: 0,
          failureRate: 0.4,
          medianMs: 0.5,
        },
      ],
    },
    verdict: { findingId: 'packet-drop', title: HOSTILE, confidence: 0.9 },
    findings: [
      {
        id: 'packet-drop',
        severity: 'critical',
        title: HOSTILE,
        confidence: 0.9,
        summary: `Queries were lost after ${HOSTILE}`,
        data: { lost: unanswered, name: HOSTILE },
        evidence: [{ input: HOSTILE, where: 'packet 1', text: HOSTILE }],
        mitigation: `echo ${HOSTILE}`,
        references: [
          'javascript:alert(1)',
          'https://github.com/kubernetes/kubernetes/issues/56903',
        ],
      },
      {
        id: 'aaaa-waste',
        severity: 'info',
        title: 'AAAA queries for IPv4-only names',
        confidence: 0.5,
        data: {},
        evidence: [],
        mitigation: '',
        references: [],
      },
    ],
    transactions: txs,
  }
}

describe('web app: shared report view', () => {
  const N = 100_000
  const report = bigReport(N)

  beforeAll(() => {
    stored.set('big', JSON.stringify(report))
  })

  it('renders /r/:id from the API, with hostile strings as text everywhere', async () => {
    const w = await open('/r/big')
    await waitForReport(w.page)
    expect(await w.page.getByTestId('verdict').textContent()).toContain(
      `Queries were lost after ${HOSTILE}`,
    )
    expect(await w.page.getByTestId('findings').textContent()).toContain(HOSTILE)
    expect(await w.page.getByTestId('inputs').textContent()).toContain(HOSTILE)
    // The DNS servers side by side, the failing one first, its name as text.
    const rows = await w.page
      .locator('[data-testid=servers] tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)))
    expect(rows).toEqual([
      [HOSTILE, '10.244.2.4', '30', '12 · 40%', '6', '6', '0.500 ms'],
      ['dns/coredns-a', '10.244.1.3', '30', '0 · 0.0%', '0', '0', '1.0 ms'],
    ])
    // A javascript: reference is shown, never linked; an https one is linked.
    const hrefs = await w.page
      .locator('[data-testid=findings] a')
      .evaluateAll((as) => as.map((a) => a.getAttribute('href')))
    expect(hrefs).toEqual(['https://github.com/kubernetes/kubernetes/issues/56903'])
    expect(await w.page.locator('#share').isHidden()).toBe(true)
    // For a person to look at: the first screen in light and dark.
    await w.page.screenshot({ path: join(ROOT, 'test/web/.out/report-light.png'), fullPage: true })
    await w.page.emulateMedia({ colorScheme: 'dark' })
    await w.page.screenshot({ path: join(ROOT, 'test/web/.out/report-dark.png') })
    await w.assertClean()
    await w.page.close()
  })

  it('keeps 100k transactions virtualized, and filters and sorts them correctly', async () => {
    const w = await open('/r/big')
    await waitForReport(w.page)
    const page = w.page
    const count = page.getByTestId('tx-count')
    expect(await count.getAttribute('data-total')).toBe(String(N))
    // Only the visible window of rows exists in the DOM.
    const rendered = await page.getByTestId('tx-row').count()
    expect(rendered).toBeGreaterThan(10)
    expect(rendered).toBeLessThan(120)

    // Text filter: every term must match.
    await page.getByTestId('tx-filter').fill('svc-42.')
    await expect.poll(() => count.getAttribute('data-shown')).toBe(String(N / 5000))
    await page.getByTestId('tx-filter').fill('<img')
    await expect.poll(() => count.getAttribute('data-shown')).toBe('1')
    expect(await page.locator('[data-testid=tx-row] .c-name').allTextContents()).toEqual([HOSTILE])
    await page.getByTestId('tx-filter').fill('')
    await expect.poll(() => count.getAttribute('data-shown')).toBe(String(N))

    // Status filters.
    await page.getByTestId('tx-status').selectOption('unanswered')
    await expect
      .poll(() => count.getAttribute('data-shown'))
      .toBe(String(report.summary.unanswered))
    await page.getByTestId('tx-status').selectOption('rcode:NXDOMAIN')
    await expect
      .poll(() => count.getAttribute('data-shown'))
      .toBe(String(report.summary.rcodes.NXDOMAIN))
    await page.getByTestId('tx-status').selectOption('all')

    // Sort by latency (slowest first), then check the top and, after scrolling, the bottom.
    const txs = report.transactions!
    const max = Math.max(...txs.map((t) => t.latencyMs ?? -1))
    await page.locator('.tx-head [data-col=latency]').click()
    await expect
      .poll(() => page.locator('.tx-head [data-col=latency]').getAttribute('aria-sort'))
      .toBe('descending')
    const topIndex = Number(await page.getByTestId('tx-row').first().getAttribute('data-index'))
    expect(txs[topIndex].latencyMs).toBe(max)
    // Unanswered (no latency) sort last, ties in report order: the last row is the last unanswered.
    const lastUnanswered = txs.map((t, i) => (t.answered ? -1 : i)).reduce((a, b) => Math.max(a, b))
    await page.locator('.tx-viewport').evaluate((el) => (el.scrollTop = el.scrollHeight))
    await expect
      .poll(() =>
        page
          .getByTestId('tx-row')
          .evaluateAll((rows) => rows.map((r) => Number((r as HTMLElement).dataset.index))),
      )
      .toContain(lastUnanswered)
    expect(await page.getByTestId('tx-row').count()).toBeLessThan(120)

    // Sort by qname ascending: the first rows are in order.
    await page.locator('.tx-head [data-col=qname]').click()
    await page.locator('.tx-viewport').evaluate((el) => (el.scrollTop = 0))
    await expect
      .poll(() => page.locator('.tx-head [data-col=qname]').getAttribute('aria-sort'))
      .toBe('ascending')
    const names = await page.locator('[data-testid=tx-row] .c-name').allTextContents()
    const sortedNames = txs.map((t) => t.qname).sort((a, b) => a.localeCompare(b))
    expect(names.slice(0, 10)).toEqual(sortedNames.slice(0, 10))

    // A row opens its timeline.
    await page.getByTestId('tx-filter').fill('<img')
    await expect.poll(() => count.getAttribute('data-shown')).toBe('1')
    await page.getByTestId('tx-row').first().click()
    expect(await page.getByTestId('tx-detail').textContent()).toContain('query forwarded')
    await page
      .getByTestId('tx-detail')
      .screenshot({ path: join(ROOT, 'test/web/.out/transaction-detail.png') })
    await w.assertClean()
    await page.close()
  })

  it('says so when a shared report does not exist', async () => {
    const w = await open('/r/doesnotexist')
    await expect.poll(() => w.page.getByTestId('error').textContent()).toMatch(/does not exist/)
    w.problems = w.problems.filter((p) => !/404/.test(p)) // the browser logs the 404 fetch itself
    await w.assertClean()
    await w.page.close()
  })
})
