// The dnstap decoding runs where the engine runs: Node, workerd (Cloudflare Workers, via
// miniflare) and Chromium under a CSP without 'unsafe-eval'. The protobufjs *static* code works
// in all three; protobufjs reflection (protobuf.parse + Type.decode compiles a decoder with
// new Function) is shown to fail in workerd and under the CSP, which is why the build generates
// static code.
import { launchChromium } from '../support/chromium.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { build } from 'esbuild'
import { Miniflare } from 'miniflare'
import type { BrowserContext } from 'playwright-core'
import { corpus } from '../corpus.js'

const ROOT = resolve(import.meta.dirname, '../..')
const FILE = corpus('dnstap/pktvisor_fixture.dnstap')
const CSP = "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'"

/** Runs in every runtime: the importer, protobufjs static decode of each frame, and reflection. */
const PROBE = `
import { dnstapImporter } from './core/importers/dnstap.ts'
import { FrameStreamReader } from './core/codec/frame-stream.ts'
import { dnstap } from './core/codec/dnstap-pb.js'
import protobuf from 'protobufjs'
export function probe(bytes, protoText) {
  const r = dnstapImporter.parse({ index: 0, path: 'f', bytes, vantage: 'f' }, { dnsPorts: new Set([53]) })
  const byType = {}
  for (const e of r.events) if (e.kind === 'dns') byType[e.dnstapType] = (byType[e.dnstapType] || 0) + 1
  const frames = new FrameStreamReader(bytes)
  frames.open()
  let staticDecoded = 0
  const staticTypes = {}
  while (frames.next()) {
    const m = dnstap.Dnstap.decode(bytes.subarray(frames.dataStart, frames.dataEnd)).message
    staticTypes[m.type] = (staticTypes[m.type] || 0) + 1
    staticDecoded++
  }
  let reflection
  try {
    const T = protobuf.parse(protoText).root.lookupType('dnstap.Dnstap')
    const f = new FrameStreamReader(bytes)
    f.open()
    f.next()
    T.decode(bytes.subarray(f.dataStart, f.dataEnd))
    reflection = 'decoded'
  } catch (e) {
    reflection = e.name + ': ' + e.message
  }
  return { eventCount: r.eventCount, byType, problems: r.problems.length, staticDecoded, staticTypes, reflection }
}
// The same module is the worker: POST the file, the .proto text in a header.
export default {
  async fetch(req) {
    const body = new Uint8Array(await req.arrayBuffer())
    return Response.json(probe(body, decodeURIComponent(req.headers.get('x-proto') || '')))
  },
}
`

let dir = ''
let bundleJs = ''
const protoText = readFileSync(join(ROOT, 'core/codec/dnstap.proto'), 'utf8')
const bytes = new Uint8Array(readFileSync(FILE))

async function nodeResult() {
  const mod = await import(join(dir, 'probe.mjs'))
  return mod.probe(bytes, protoText)
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dnstap-runtimes-'))
  await build({
    stdin: { contents: PROBE, resolveDir: ROOT, loader: 'ts' },
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    outfile: join(dir, 'probe.mjs'),
    logLevel: 'warning',
  })
  bundleJs = readFileSync(join(dir, 'probe.mjs'), 'utf8')
})

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('dnstap decoding across runtimes', () => {
  it('Node: the importer and the static code agree, and reflection works here (no CSP)', async () => {
    const r = await nodeResult()
    expect(r).toMatchObject({
      eventCount: 153,
      byType: { CLIENT_QUERY: 79, CLIENT_RESPONSE: 74 },
      problems: 1,
      staticDecoded: 153,
    })
    expect(r.staticTypes).toEqual({ 5: 79, 6: 74 })
    expect(r.reflection).toBe('decoded')
  })

  it('workerd: same result from the importer and the static code; reflection throws EvalError', async () => {
    const mf = new Miniflare({ modules: true, script: bundleJs, compatibilityDate: '2026-04-01' })
    try {
      const res = await mf.dispatchFetch('http://localhost/', {
        method: 'POST',
        body: bytes,
        headers: { 'x-proto': encodeURIComponent(protoText) },
      })
      const text = await res.text()
      expect(res.status, text).toBe(200)
      const r = JSON.parse(text) as Record<string, unknown>
      const node = await nodeResult()
      expect({ ...r, reflection: undefined }).toEqual({ ...node, reflection: undefined })
      expect(r.reflection).toMatch(/^EvalError: .*[Cc]ode generation from strings disallowed/)
    } finally {
      await mf.dispose()
    }
  })

  it("Chromium under a CSP without 'unsafe-eval': same result; reflection throws EvalError", async () => {
    const page = `<!doctype html><meta charset="utf-8"><script type="module" src="/main.mjs"></script>`
    const main = `import { probe } from '/probe.mjs'
      const [b, p] = await Promise.all([fetch('/file').then((r) => r.arrayBuffer()), fetch('/proto').then((r) => r.text())])
      window.__result = probe(new Uint8Array(b), p)`
    const server: Server = createServer((req, res) => {
      res.setHeader('content-security-policy', CSP)
      const routes: Record<string, [string, string | Uint8Array]> = {
        '/': ['text/html', page],
        '/main.mjs': ['text/javascript', main],
        '/probe.mjs': ['text/javascript', bundleJs],
        '/file': ['application/octet-stream', bytes],
        '/proto': ['text/plain', protoText],
      }
      const hit = routes[req.url ?? '']
      res.writeHead(hit ? 200 : 404, { 'content-type': hit?.[0] ?? 'text/plain' })
      res.end(hit?.[1] ?? '')
    })
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
    const port = (server.address() as { port: number }).port
    const profile = mkdtempSync(join(tmpdir(), 'dnstap-chromium-'))
    let context: BrowserContext | undefined
    try {
      context = await launchChromium(profile)
      const tab = await context.newPage()
      const errors: string[] = []
      tab.on('pageerror', (e) => errors.push(String(e)))
      await tab.goto(`http://127.0.0.1:${port}/`)
      await tab.waitForFunction(
        () => (window as unknown as { __result?: unknown }).__result,
        null,
        { timeout: 30_000 },
      )
      const r = (await tab.evaluate(
        () => (window as unknown as { __result: unknown }).__result,
      )) as Record<string, unknown>
      const node = await nodeResult()
      expect(errors).toEqual([])
      expect({ ...r, reflection: undefined }).toEqual({ ...node, reflection: undefined })
      expect(r.reflection).toMatch(/^EvalError: /)
    } finally {
      await context?.close()
      rmSync(profile, { recursive: true, force: true })
      await new Promise((ok) => server.close(ok))
    }
  })
})
