// Bundles the CLI (collector/) and the core into one ESM file, so `npx dnsbundle` runs on plain
// Node 20 with no TypeScript loader. Runs from `npm install` (prepare) and `npm run build`.
import { build } from 'esbuild'
import { chmodSync, readFileSync } from 'node:fs'

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
const outfile = new URL('../dist/dnsbundle.mjs', import.meta.url).pathname

await build({
  entryPoints: [new URL('../collector/cli.ts', import.meta.url).pathname],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  define: { __DNSBUNDLE_VERSION__: JSON.stringify(pkg.version) },
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
  logLevel: 'warning',
})
chmodSync(outfile, 0o755)
