// Security headers on every response (API answers, errors, the web app's files, share pages) and
// one error handler that never shows a stack trace.
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { env } from 'cloudflare:workers'
import { reset } from 'cloudflare:test'
import { call, exampleBundle, upload } from './helpers.js'

beforeEach(() => reset())

const EXPECTED = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
}

function expectSecurityHeaders(res: Response, what: string): void {
  for (const [name, value] of Object.entries(EXPECTED)) {
    expect(res.headers.get(name), `${what}: ${name}`).toBe(value)
  }
  expect(res.headers.get('content-security-policy')).not.toMatch(/unsafe-(eval|inline)/)
}

describe('security headers', () => {
  it('are on every kind of response', async () => {
    const created = await upload(exampleBundle(), '?share=1')
    const zip = { 'content-type': 'application/zip' }
    const json = { 'content-type': 'application/json' }
    const cases: [string, string, RequestInit?][] = [
      ['share page', `/r/${created.id}`],
      ['share page, unknown id', `/r/${'q'.repeat(24)}`],
      ['index', '/'],
      ['static file', '/app.js'],
      ['SPA fallback', '/some/client/route'],
      ['report', `/api/reports/${created.id}`],
      ['bundle download', `/api/bundles/${created.id}`],
      ['404', `/api/reports/${'q'.repeat(24)}`],
      ['unknown API route', '/api/list'],
      ['405', '/', { method: 'POST' }],
      ['415', '/api/bundles', { method: 'POST', body: 'x' }],
      ['400', '/api/reports', { method: 'POST', headers: json, body: '{' }],
      ['413', '/api/reports', { method: 'POST', headers: json, body: ' '.repeat(300 * 1024) }],
      ['422', '/api/reports', { method: 'POST', headers: json, body: '{}' }],
      ['401', `/api/reports/${created.id}`, { method: 'DELETE' }],
      ['201', '/api/bundles', { method: 'POST', headers: zip, body: exampleBundle() }],
      [
        '204',
        `/api/reports/${created.id}`,
        { method: 'DELETE', headers: { authorization: `Bearer ${created.deleteToken}` } },
      ],
    ]
    for (const [what, path, init] of cases) {
      const res = await call(path, init)
      expectSecurityHeaders(res, `${what} (${res.status})`)
      await res.arrayBuffer()
    }
  })

  it('serve the web app at /r/:id without looking the id up', async () => {
    const spy = vi.spyOn(env.REPORTS, 'getWithMetadata')
    const res = await call(`/r/${'q'.repeat(24)}`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    expect(await res.text()).toContain('data-testid="placeholder-app"')
    expect(spy).not.toHaveBeenCalled()
    spy.mockRestore()
  })
})

describe('the error handler', () => {
  it('answers 500 with no stack trace or internal message, with the headers', async () => {
    const created = await upload(exampleBundle())
    const spy = vi
      .spyOn(env.REPORTS, 'getWithMetadata')
      .mockRejectedValue(new Error('KV exploded at /srv/secret/path.ts:12'))
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => {})
    const res = await call(`/api/reports/${created.id}`)
    spy.mockRestore()
    quiet.mockRestore()
    expect(res.status).toBe(500)
    expect(await res.text()).toBe('{"error":"internal","message":"internal error"}')
    expectSecurityHeaders(res, '500')
  })

  it('has no listing endpoint', async () => {
    await upload(exampleBundle())
    for (const path of ['/api/reports', '/api/bundles', '/api/reports/', '/api']) {
      const res = await call(path)
      expect(res.status, path).toBe(404)
      expect(await res.json()).toMatchObject({ error: 'no-route' })
    }
  })
})
