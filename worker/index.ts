// Worker entry point (wrangler.toml `main`): the HTTP app and the scheduled expiry sweep.
import { createApp } from './app.js'
import type { Env } from './env.js'
import { sweepExpired } from './sweep.js'

const app = createApp()

export default {
  fetch: app.fetch,
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(
      sweepExpired(env, Date.now()).then((r) =>
        console.log(`dnsbundle sweep: ${r.bundlesDeleted} bundles, ${r.recordsDeleted} records deleted`),
      ),
    )
  },
} satisfies ExportedHandler<Env>
