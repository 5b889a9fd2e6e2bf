import { defineConfig } from 'vitest/config'

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
    ],
  },
})
