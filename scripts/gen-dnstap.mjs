// Generates the protobufjs *static* code for core/codec/dnstap.proto: dnstap-pb.js (ESM, imports
// protobufjs/minimal.js) and its types dnstap-pb.d.ts. Static code because protobufjs reflection
// compiles decoders with `new Function`, which Workers and a strict CSP forbid (EvalError).
// Usage: node scripts/gen-dnstap.mjs [outDir]   (default core/codec; the freshness test passes a
// temp dir and compares). Runs in `npm run build`.
import { createRequire } from 'node:module'
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const { pbjs, pbts } = require('protobufjs-cli')

const root = resolve(fileURLToPath(new URL('..', import.meta.url)))
const proto = join(root, 'core/codec/dnstap.proto')
const outDir = resolve(process.argv[2] ?? join(root, 'core/codec'))
mkdirSync(outDir, { recursive: true })
const js = join(outDir, 'dnstap-pb.js')
const dts = join(outDir, 'dnstap-pb.d.ts')

function run(tool, args) {
  return new Promise((ok, fail) => {
    tool.main(args, (err) => (err ? fail(err) : ok()))
  })
}

// The input path is relative to the repository, so the generated comments do not depend on where
// the checkout lives.
process.chdir(root)
await run(pbjs, [
  '-t',
  'static-module',
  '-w',
  'es6',
  '--no-verify',
  '--no-delimited',
  '--no-service',
  '-o',
  js,
  'core/codec/dnstap.proto',
])
await run(pbts, ['-o', dts, js])
console.log(`generated ${js} and ${dts} from ${proto}`)
