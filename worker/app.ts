// The dnsbundle worker app: the API under /api, share links under /r, the web app for the rest.
import { Hono } from 'hono'
import { limitsFrom, type AppEnv } from './env.js'
import { ApiError, handleError } from './errors.js'
import { securityHeaders } from './security-headers.js'
import { bundles } from './routes/bundles.js'
import { reports } from './routes/reports.js'
import { sharePage } from './routes/share-page.js'

/**
 * Builds the app. One error handler, security headers on every response, no listing endpoint.
 * @example
 *   const res = await createApp().request('/api/reports/unknown', {}, env) // 404
 */
export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.use('*', securityHeaders())
  app.use('*', async (c, next) => {
    c.set('limits', limitsFrom(c.env))
    await next()
  })
  app.use('/api/*', async (c, next) => {
    await next()
    if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store')
  })

  app.route('/api/bundles', bundles)
  app.route('/api/reports', reports)
  app.all('/api/*', () => {
    throw new ApiError(404, 'no-route', 'no such API route (see README.md, "The server")')
  })
  app.route('/r', sharePage)
  // Everything else is the web app: static files, and index.html for client routes.
  app.on(['GET', 'HEAD'], '*', (c) => c.env.ASSETS.fetch(c.req.raw))
  app.all('*', () => {
    throw new ApiError(405, 'method-not-allowed', 'only GET and HEAD outside /api')
  })

  app.onError(handleError)
  return app
}
