// Worker entry point (wrangler.toml `main`): the HTTP app and the scheduled expiry sweep.
import { createApp } from './app.js'
import type { Env } from './env.js'
import { sweepExpired } from './sweep.js'

const app = createApp()

export default {
  fetch: app.fetch,
  // The cron's scheduled time is "now": a late run still sweeps what had expired by then.
  async scheduled(controller, env, ctx) {
    ctx.waitUntil(
      sweepExpired(env, controller.scheduledTime).then((r) =>
        console.log(
          `dnsbundle sweep: ${r.bundlesDeleted} bundles, ${r.recordsDeleted} records deleted`,
        ),
      ),
    )
  },
} satisfies ExportedHandler<Env>
