// `npm start`: builds the web app and the CLI, starts the worker under `wrangler dev` at
// http://127.0.0.1:8787 with its storage in .dnsbundle/state (telemetry off, nothing leaves the
// machine), uploads the example bundle and prints the link to its report. Ctrl-C stops it all.
//
//   npm start [-- --port N] [--persist-to DIR] [--no-build]
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { tsImport } from 'tsx/esm/api'

const root = new URL('..', import.meta.url).pathname
const args = process.argv.slice(2)
const flag = (name, fallback) => {
  const i = args.indexOf(name)
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback
}
const port = Number(flag('--port', process.env.PORT ?? '8787'))
const persistTo = flag('--persist-to', join(root, '.dnsbundle', 'state'))

if (!args.includes('--no-build')) {
  run('npm', ['run', '--silent', 'build:web'], 'the web app')
  run('npm', ['run', '--silent', 'build:cli'], 'the CLI')
}
// The example: a bundle the lab (test/lab) recorded with real software while the node dropped
// 20% of DNS packets; examples/README.md says how it was made.
let example = join(root, 'examples', 'lab-node-drops.zip')
if (!existsSync(example)) {
  example = join(root, 'examples', 'incident-bundle.zip')
  if (!existsSync(example))
    run('node', [join(root, 'scripts', 'make-example.mjs')], 'the example bundle')
}

// collector/serve.ts is the one implementation of the local server (`dnsbundle serve` too).
const { serve } = await tsImport('../collector/serve.ts', import.meta.url)
let server
try {
  server = await serve({
    port,
    persistTo,
    buildWeb: false,
    example,
    log: (line) => console.error(line),
    wranglerLog: (chunk) => process.stderr.write(chunk),
  })
} catch (e) {
  // A busy port or a failed build is the user's to fix: say what, not where in our code.
  console.error(`dnsbundle: ${e instanceof Error ? e.message : e}`)
  process.exit(1)
}

console.log(`
dnsbundle is running at ${server.url}  (storage: ${persistTo})

  Example report:  ${server.example.url}
  Open a bundle:   ${server.url}/
  API:             README.md, "The server"

Press Ctrl-C to stop.`)

let stopping = false
const stop = async () => {
  if (stopping) return
  stopping = true
  await server.stop()
  process.exit(0)
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
server.exited.then((code) => {
  if (!stopping) {
    console.error(`wrangler dev exited (${code})`)
    process.exit(1)
  }
})

function run(cmd, argv, what) {
  console.error(`dnsbundle: building ${what}…`)
  const r = spawnSync(cmd, argv, { cwd: root, stdio: 'inherit' })
  if (r.status !== 0) {
    console.error(`dnsbundle: building ${what} failed (${cmd} ${argv.join(' ')})`)
    process.exit(1)
  }
}
