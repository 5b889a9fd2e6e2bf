import { defineConfig } from 'vitest/config'
import { cloudflareTest } from '@cloudflare/vitest-pool-workers'

// One `npm test` runs every project: the pure core and CLI under Node, the worker inside workerd,
// the web app in Chromium, and the lab of real DNS software (root, network namespaces).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          globalSetup: ['test/global-setup.ts'],
          include: ['test/**/*.test.ts'],
          exclude: ['test/worker/**', 'node_modules/**'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
      {
        // The worker inside workerd (vitest-pool-workers), with wrangler.toml's bindings, smaller
        // limits so the limit paths run on small bodies, and stand-in static assets so the tests
        // do not depend on a web build.
        plugins: [
          cloudflareTest({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              assets: { directory: './test/fixtures/worker-assets' },
              bindings: {
                MAX_UPLOAD_BYTES: String(24 * 1024 * 1024),
                MAX_REPORT_BYTES: String(256 * 1024),
                ANALYZE_MAX_BYTES: String(1024 * 1024),
                ANALYZE_MAX_INFLATED_BYTES: String(4 * 1024 * 1024),
              },
            },
          }),
        ],
        test: {
          name: 'workers',
          include: ['test/worker/**/*.test.ts'],
          globalSetup: ['test/worker/global-setup.ts'],
          testTimeout: 60_000,
        },
      },
    ],
  },
})
