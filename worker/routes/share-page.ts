// /r/:id: the share link. Serves the web app's index.html; the app reads the id from the path and
// fetches /api/reports/:id itself. No storage is read here, so the page says nothing about
// whether an id exists.
import { Hono } from 'hono'
import type { AppEnv } from '../env.js'

/**
 * The share page sub-app, mounted at /r.
 * @example
 *   curl -i http://127.0.0.1:8787/r/q8Zb2s0xv1mB7cH3lQw9TtE_   # 200, text/html
 */
export const sharePage = new Hono<AppEnv>()

sharePage.get('/:id', async (c) => {
  const index = new URL('/index.html', c.req.url)
  const res = await c.env.ASSETS.fetch(new Request(index, { headers: c.req.raw.headers }))
  const page = new Response(res.body, res)
  page.headers.set('Cache-Control', 'no-store')
  return page
})
