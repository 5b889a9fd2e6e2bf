// `dnsbundle serve` and `npm start`: the worker under `wrangler dev` on loopback, serving the web
// app, with its storage (R2, KV) persisted to a local folder. Telemetry is off and nothing
// leaves the machine: WRANGLER_SEND_METRICS=false, CLOUDFLARE_CF_FETCH_ENABLED=false, and
// WRANGLER_HIDE_BANNER=true (the banner is what checks the npm registry for a newer wrangler).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { uploadBundle, type ShareCreated } from './share.js'

/** The checkout: collector/serve.ts and dist/dnsbundle.mjs both sit one level below it. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/** Environment that keeps wrangler offline and quiet. */
export const OFFLINE_ENV: Readonly<Record<string, string>> = {
  WRANGLER_SEND_METRICS: 'false',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  WRANGLER_HIDE_BANNER: 'true',
}

export interface ServeOptions {
  /** Default 127.0.0.1. */
  host?: string
  /** Default 8787. */
  port?: number
  /** Where the worker's storage lives between runs. Default `<root>/.dnsbundle/state`. */
  persistTo?: string
  /** Static files to serve instead of wrangler.toml's `web/dist` (tests). */
  assetsDir?: string
  /** Extra worker vars (`--var NAME:VALUE`), for example smaller limits. */
  vars?: Record<string, string>
  /** Build the web app first when web/dist has no index.html (default true). */
  buildWeb?: boolean
  /** A bundle to upload once the server is up; its link is printed and returned. */
  example?: string
  /** Where progress lines go (default stderr); wrangler's own output goes to `wranglerLog`. */
  log?: (line: string) => void
  wranglerLog?: (chunk: string) => void
  /**
   * How often to run the worker's expiry sweep, in ms (default hourly, as the cron does on
   * Cloudflare; 0 for never). Also run once at start, for what expired while it was stopped.
   */
  sweepEveryMs?: number
  /** How long to wait for the server, in ms (default 60 s). */
  startTimeoutMs?: number
  /** The checkout holding wrangler.toml (default ROOT). */
  root?: string
}

export interface RunningServer {
  url: string
  /** The wrangler process (its process group holds workerd too). */
  pid: number
  /** The example's share, when `example` was given. */
  example?: ShareCreated
  /** Runs the worker's scheduled expiry sweep now. */
  sweep(): Promise<void>
  /** Resolves when wrangler exits. */
  exited: Promise<number | null>
  /** Stops wrangler and workerd; resolves once they are gone. */
  stop(): Promise<void>
}

/**
 * Starts the local dnsbundle server.
 * @example
 *   const server = await serve({ port: 8787, example: 'examples/incident-bundle.zip' })
 *   console.log(server.example?.url) // http://127.0.0.1:8787/r/<id>
 *   await server.stop()
 */
export async function serve(options: ServeOptions = {}): Promise<RunningServer> {
  const root = options.root ?? ROOT
  const host = options.host ?? '127.0.0.1'
  const port = options.port ?? 8787
  const persistTo = resolve(options.persistTo ?? join(root, '.dnsbundle', 'state'))
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'))
  if (
    (options.buildWeb ?? true) &&
    !options.assetsDir &&
    !existsSync(join(root, 'web/dist/index.html'))
  ) {
    log('dnsbundle: building the web app (npm run build:web)…')
    const built = spawnSync('npm', ['run', '--silent', 'build:web'], {
      cwd: root,
      stdio: 'inherit',
    })
    if (built.status !== 0) throw new Error('npm run build:web failed')
  }
  mkdirSync(persistTo, { recursive: true })
  // Otherwise an older server on the port would answer the readiness check in our place.
  await assertPortFree(host, port)

  const args = [
    wranglerBin(root),
    'dev',
    '--ip',
    host,
    '--port',
    String(port),
    '--persist-to',
    persistTo,
  ]
  args.push('--log-level', 'warn', '--show-interactive-dev-session=false')
  // Cron triggers do not fire under wrangler dev, and with static assets its
  // /cdn-cgi/handler/scheduled fails (DataCloneError, wrangler 4.86); /__scheduled works.
  args.push('--test-scheduled')
  if (options.assetsDir) args.push('--assets', resolve(options.assetsDir))
  for (const [name, value] of Object.entries(options.vars ?? {}))
    args.push('--var', `${name}:${value}`)
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...OFFLINE_ENV, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so stop() reaches workerd too.
    detached: true,
  })
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)))
  let output = ''
  const collect = (chunk: Buffer) => {
    const text = chunk.toString()
    output = (output + text).slice(-4000)
    options.wranglerLog?.(text)
  }
  child.stdout!.on('data', collect)
  child.stderr!.on('data', collect)

  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  let sweeper: NodeJS.Timeout | undefined
  const server: RunningServer = {
    url,
    pid: child.pid!,
    exited,
    sweep: () => runSweep(url),
    stop: async () => {
      clearInterval(sweeper)
      await stopGroup(child, exited)
    },
  }
  try {
    await waitUntilUp(url, exited, options.startTimeoutMs ?? 60_000, () => output)
    const every = options.sweepEveryMs ?? 3600_000
    if (every > 0) {
      await server.sweep()
      sweeper = setInterval(() => void server.sweep().catch(() => {}), every)
      sweeper.unref()
    }
    if (options.example) server.example = await uploadExample(url, options.example, persistTo)
  } catch (e) {
    await server.stop()
    throw e
  }
  return server
}

function assertPortFree(host: string, port: number): Promise<void> {
  return new Promise((done, fail) => {
    const probe = createServer()
    probe.once('error', (e: NodeJS.ErrnoException) =>
      fail(
        new Error(
          `cannot listen on ${host}:${port} (${e.code ?? e.message}): is another server running?`,
        ),
      ),
    )
    probe.listen(port, host, () => probe.close(() => done()))
  })
}

/** Fires the worker's `scheduled` handler through wrangler dev's test endpoint. */
async function runSweep(url: string): Promise<void> {
  const res = await fetch(`${url}/__scheduled?cron=${encodeURIComponent('23 * * * *')}`)
  const text = await res.text()
  if (!res.ok) throw new Error(`the expiry sweep failed: ${res.status} ${text.slice(0, 200)}`)
}

function wranglerBin(root: string): string {
  const require = createRequire(join(root, 'package.json'))
  return require.resolve('wrangler/bin/wrangler.js')
}

/** Polls until the worker answers an API request (a 404 for a made-up id is a real answer). */
async function waitUntilUp(
  url: string,
  exited: Promise<number | null>,
  timeoutMs: number,
  output: () => string,
): Promise<void> {
  let gone: number | null | undefined
  void exited.then((code) => (gone = code))
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (gone !== undefined) throw new Error(`wrangler dev exited (${gone}):\n${output()}`)
    try {
      const res = await fetch(`${url}/api/reports/${'0'.repeat(24)}`, {
        signal: AbortSignal.timeout(2000),
      })
      if (res.status === 404 && res.headers.get('content-type')?.startsWith('application/json'))
        return
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`wrangler dev did not answer on ${url} within ${timeoutMs} ms:\n${output()}`)
}

/**
 * Uploads the example bundle, or reuses the link from an earlier run while its report still
 * exists (so repeated `npm start`s do not pile up copies).
 */
async function uploadExample(
  url: string,
  zipPath: string,
  persistTo: string,
): Promise<ShareCreated> {
  const remembered = join(persistTo, 'example-share.json')
  if (existsSync(remembered)) {
    try {
      const earlier = JSON.parse(readFileSync(remembered, 'utf8')) as ShareCreated
      const res = await fetch(`${url}/api/reports/${earlier.id}`)
      await res.arrayBuffer()
      if (res.ok)
        return {
          ...earlier,
          url: `${url}/r/${earlier.id}`,
          reportUrl: `${url}/api/reports/${earlier.id}`,
        }
    } catch {
      // unreadable or gone: upload again
    }
  }
  const created = await uploadBundle(new Uint8Array(readFileSync(zipPath)), url, { share: true })
  writeFileSync(remembered, JSON.stringify(created, null, 2) + '\n', { mode: 0o600 })
  return created
}

async function stopGroup(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig)
    } catch {
      // already gone
    }
  }
  signal('SIGTERM')
  const timer = setTimeout(() => signal('SIGKILL'), 5000)
  await exited
  clearTimeout(timer)
  // workerd may outlive wrangler for a moment: make sure the group is empty.
  signal('SIGKILL')
}
