// Security headers on every response, the web app's static files and error answers included.
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from './env.js'

/** Strict CSP: no inline script or style, no eval, no framing, no foreign origins. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ')

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  // A share link is a secret: never send it to another site in a Referer.
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), interest-cohort=()',
}

/**
 * Adds SECURITY_HEADERS to the response, whoever made it (a route, the error handler, ASSETS).
 * @example
 *   app.use('*', securityHeaders())
 */
export function securityHeaders(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next()
    // Responses from ASSETS or fetch() have immutable headers: copy before setting.
    const res = new Response(c.res.body, c.res)
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.headers.set(name, value)
    c.res = res
  }
}
