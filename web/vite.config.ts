// Builds the single-page app into web/dist, which the worker serves as static assets.
// Everything is emitted as files ('self' under the CSP): no inline script, no inline style.
import { readFileSync } from 'node:fs'
import { defineConfig } from 'vite'

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string
}

export default defineConfig({
  root: new URL('.', import.meta.url).pathname,
  base: '/',
  publicDir: 'public',
  define: { __DNSBUNDLE_VERSION__: JSON.stringify(pkg.version) },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Keep every asset a file: a data: URL would need its own CSP exception.
    assetsInlineLimit: 0,
    sourcemap: true,
    reportCompressedSize: false,
  },
  worker: { format: 'es' },
})
