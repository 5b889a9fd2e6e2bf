// The Corefile syntax (CoreDNS's fork of the Caddy v1 Caddyfile: caddyfile/lexer.go, parse.go):
// tokens split by white space, `#` at a token start comments to the end of the line, "quoted"
// tokens, `{`/`}` blocks, one directive a line, `(name) { }` snippets that `import name` pastes,
// `{$ENV}` placeholders kept as written. Shared by the Corefile and Kubernetes manifest importers.
import type { CorefileServer } from '../model/event.js'
import type { Problem } from './importer.js'

interface Token {
  text: string
  line: number
  /** A bare `{` or `}` (not quoted, not part of a placeholder). */
  brace: boolean
}

interface Entry {
  tokens: Token[]
  children: Entry[] | null
  line: number
}

/** CoreDNS plugins (plugin.cfg, 1.0 to 1.12) and the removed proxy: how a sniffer knows a Corefile. */
export const COREDNS_PLUGINS = new Set([
  'acl',
  'any',
  'auto',
  'autopath',
  'azure',
  'bind',
  'bufsize',
  'cache',
  'cancel',
  'chaos',
  'clouddns',
  'debug',
  'dns64',
  'dnssec',
  'dnstap',
  'erratic',
  'errors',
  'etcd',
  'federation',
  'file',
  'forward',
  'geoip',
  'grpc',
  'header',
  'health',
  'hosts',
  'import',
  'k8s_external',
  'kubernetes',
  'loadbalance',
  'local',
  'log',
  'loop',
  'metadata',
  'minimal',
  'multisocket',
  'nsid',
  'pprof',
  'prometheus',
  'proxy',
  'quic',
  'ready',
  'reload',
  'rewrite',
  'root',
  'route53',
  'secondary',
  'sign',
  'template',
  'timeouts',
  'tls',
  'trace',
  'transfer',
  'tsig',
  'view',
  'whoami',
])

/** Splits Corefile text into tokens with their 1-based line numbers (offset by `firstLine`). */
export function tokenize(lines: string[], firstLine = 1, problems: Problem[] = []): Token[] {
  const tokens: Token[] = []
  lines.forEach((text, i) => {
    const line = firstLine + i
    let p = 0
    const n = text.length
    while (p < n) {
      while (p < n && /\s/.test(text[p])) p++
      if (p >= n || text[p] === '#') break
      if (text[p] === '"') {
        let q = p + 1
        let value = ''
        while (q < n && text[q] !== '"') {
          if (text[q] === '\\' && q + 1 < n) q++
          value += text[q++]
        }
        if (q >= n) problems.push({ where: `line ${line}`, message: 'unterminated quoted string' })
        tokens.push({ text: value, line, brace: false })
        p = q + 1
        continue
      }
      if ((text[p] === '{' || text[p] === '}') && !isPlaceholder(text, p)) {
        tokens.push({ text: text[p], line, brace: true })
        p++
        continue
      }
      let q = p
      while (q < n && !/\s/.test(text[q])) {
        if (text[q] === '{' && isPlaceholder(text, q)) q = text.indexOf('}', q) + 1
        else if (text[q] === '{' || text[q] === '}') break
        else q++
      }
      tokens.push({ text: text.slice(p, q), line, brace: false })
      p = q
    }
  })
  return tokens
}

/** `{$NAME}` or `{%NAME%}` starting at p. */
function isPlaceholder(text: string, p: number): boolean {
  return /^\{(?:\$[\w.-]+|%[\w.-]+%)\}/.test(text.slice(p, p + 256))
}

/** Real Corefiles nest two or three deep; hostile input must not exhaust the stack. */
const MAX_DEPTH = 32

/** Moves past the rest of a block whose `{` was just read, up to its `}` (not consumed). */
function skipBlock(tokens: Token[], at: { i: number }) {
  let open = 1
  for (; at.i < tokens.length; at.i++) {
    const t = tokens[at.i]
    if (!t.brace) continue
    if (t.text === '{') open++
    else if (--open === 0) return
  }
}

/** Reads entries (one a line, each maybe with a `{ }` body) until a `}` or the end. */
function readEntries(
  tokens: Token[],
  at: { i: number },
  depth: number,
  problems: Problem[],
): Entry[] {
  const entries: Entry[] = []
  while (at.i < tokens.length) {
    const t = tokens[at.i]
    if (t.brace && t.text === '}') {
      if (depth > 0) return entries
      problems.push({ where: `line ${t.line}`, message: 'a closing brace without a block' })
      at.i++
      continue
    }
    const entry: Entry = { tokens: [], children: null, line: t.line }
    while (at.i < tokens.length && tokens[at.i].line === t.line && !tokens[at.i].brace) {
      entry.tokens.push(tokens[at.i++])
    }
    const next = tokens[at.i]
    if (next?.brace && next.text === '{' && (entry.tokens.length === 0 || next.line === t.line)) {
      at.i++
      if (depth >= MAX_DEPTH) {
        problems.push({
          where: `line ${next.line}`,
          message: `blocks nested deeper than ${MAX_DEPTH}: skipped`,
        })
        skipBlock(tokens, at)
        entry.children = []
      } else entry.children = readEntries(tokens, at, depth + 1, problems)
      const close = tokens[at.i]
      if (close?.brace && close.text === '}') {
        at.i++
        // `}STUBDOMAINS`: text run onto a closing brace is not part of the block.
        const after = tokens[at.i]
        if (after && after.line === close.line && !after.brace) {
          problems.push({
            where: `line ${after.line}`,
            message: `text after a closing brace: ${JSON.stringify(after.text.slice(0, 60))}`,
          })
          while (at.i < tokens.length && tokens[at.i].line === close.line && !tokens[at.i].brace)
            at.i++
        }
      } else
        problems.push({
          where: `line ${entry.line}`,
          message: 'block not closed before the end of the file',
        })
    }
    if (entry.tokens.length || entry.children) entries.push(entry)
  }
  return entries
}

/**
 * Parses a Corefile into its server blocks.
 * @example parseCorefile(['.:53 {', '  forward . 8.8.8.8', '}']).servers[0].plugins[0].name === 'forward'
 */
export function parseCorefile(
  lines: string[],
  firstLine = 1,
): { servers: CorefileServer[]; problems: Problem[] } {
  const problems: Problem[] = []
  const tokens = tokenize(lines, firstLine, problems)
  const top = readEntries(tokens, { i: 0 }, 0, problems)
  const snippets = new Map<string, Entry[]>()
  const servers: CorefileServer[] = []
  for (const e of top) {
    const keys = e.tokens.map((t) => t.text)
    if (e.children && keys.length === 1 && /^\(.+\)$/.test(keys[0])) {
      snippets.set(keys[0].slice(1, -1), e.children)
      continue
    }
    if (!e.children || keys.length === 0) {
      if (keys[0] === 'import') continue // a top-level import of other Corefiles: nothing to read here
      problems.push({
        where: `line ${e.line}`,
        message: `not a server block: ${JSON.stringify(keys.join(' ').slice(0, 60))}`,
      })
      continue
    }
    const plugins = toPlugins(e.children, snippets, 0)
    const byPort = new Map<string, CorefileServer>()
    for (const key of keys.flatMap((k) => k.split(',')).filter(Boolean)) {
      const parsed = parseKey(key)
      const id = `${parsed.scheme ?? ''}|${parsed.port}`
      let server = byPort.get(id)
      if (!server) {
        server = { zones: [], port: parsed.port, plugins }
        if (parsed.scheme) server.scheme = parsed.scheme
        byPort.set(id, server)
        servers.push(server)
      }
      server.zones.push(parsed.zone)
    }
  }
  return { servers, problems }
}

function toPlugins(
  entries: Entry[],
  snippets: Map<string, Entry[]>,
  depth: number,
): CorefileServer['plugins'] {
  const plugins: CorefileServer['plugins'] = []
  for (const e of entries) {
    const [name, ...args] = e.tokens.map((t) => t.text)
    const snippet = name === 'import' && args.length === 1 ? snippets.get(args[0]) : undefined
    if (snippet && depth < 10) {
      plugins.push(...toPlugins(snippet, snippets, depth + 1))
      continue
    }
    plugins.push({ name: name ?? '', args, block: flatten(e.children ?? []) })
  }
  return plugins
}

/** A plugin's block as lines; deeper blocks are flattened after their opening line. */
function flatten(entries: Entry[]): { name: string; args: string[] }[] {
  return entries.flatMap((e) => {
    const [name, ...args] = e.tokens.map((t) => t.text)
    return [{ name: name ?? '', args }, ...flatten(e.children ?? [])]
  })
}

/** `dns://cluster.local:53`, `.:5553`, `10.0.0.0/24`, `.:{$PORT}` -> zone, port, scheme. */
function parseKey(key: string): { zone: string; port: number; scheme?: string } {
  let rest = key
  let scheme: string | undefined
  const s = /^([a-z][a-z0-9+.-]*):\/\//.exec(rest)
  if (s) {
    scheme = s[1] === 'dns' ? undefined : s[1]
    rest = rest.slice(s[0].length)
  }
  // CoreDNS core/dnsserver/address.go: the default port of each transport.
  const defaultPort =
    scheme === 'tls' || scheme === 'quic' ? 853 : scheme === 'https' || scheme === 'grpc' ? 443 : 53
  const m = /^(.*):(\d{1,5}|\{[$%][^}]*\})$/.exec(rest)
  if (!m) return { zone: rest || '.', port: defaultPort, scheme }
  return { zone: m[1] || '.', port: /^\d+$/.test(m[2]) ? Number(m[2]) : NaN, scheme }
}
