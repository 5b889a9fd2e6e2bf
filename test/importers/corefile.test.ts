import { describe, expect, it } from 'vitest'
import { corefile } from '../../core/importers/corefile.js'
import {
  corpus,
  corpusFiles,
  facts,
  HOSTILE_LINE,
  importChecked,
  run,
  text,
} from './nodefacts-helpers.js'

const dir = 'config/corefile/'
const servers = (bytes: Uint8Array, name = 'Corefile') => {
  const r = importChecked(corefile, bytes, name)
  return { r, s: facts(r.events, 'corefile')[0].servers }
}
const plugin = (s: ReturnType<typeof servers>['s'][number], name: string) =>
  s.plugins.find((p) => p.name === name)

describe('corefile: every Corefile of the corpus', () => {
  it('imports all 15, each as one fact with at least one server block', () => {
    const files = corpusFiles(dir)
    expect(files).toHaveLength(15)
    for (const f of files) {
      const { r, s } = servers(corpus(f), f)
      expect(s.length, f).toBeGreaterThan(0)
      expect(r.events, f).toHaveLength(1)
    }
  })

  it('kops: log and cache blocks, autopath, the old proxy plugin, comment and blank lines', () => {
    const { r, s } = servers(
      corpus(dir + 'coredns-coredns-2340_kops_proxy-plugin_autopath.Corefile'),
    )
    expect(r.problems).toEqual([])
    expect(s).toHaveLength(1)
    expect(s[0]).toMatchObject({ zones: ['.'], port: 53 })
    expect(s[0].plugins.map((p) => p.name)).toEqual([
      'errors',
      'log',
      'health',
      'kubernetes',
      'autopath',
      'prometheus',
      'proxy',
      'cache',
      'nsid',
      'reload',
    ])
    expect(plugin(s[0], 'log')).toEqual({
      name: 'log',
      args: ['.'],
      block: [{ name: 'class', args: ['denial', 'error'] }],
    })
    expect(plugin(s[0], 'autopath')?.args).toEqual(['@kubernetes'])
    expect(plugin(s[0], 'cache')?.block).toEqual([
      { name: 'success', args: ['10000'] },
      { name: 'denial', args: ['1024', '10'] },
    ])
    expect(plugin(s[0], 'kubernetes')?.block[2]).toEqual({
      name: 'fallthrough',
      args: ['in-addr.arpa', 'ip6.arpa'],
    })
  })

  it('eight redacted server blocks with proxy force_tcp', () => {
    const { r, s } = servers(
      corpus(
        dir + 'coredns-coredns-2532_redacted-zones_multi-server-blocks_proxy-force_tcp.Corefile',
      ),
    )
    expect(r.problems).toEqual([])
    expect(s).toHaveLength(8)
    expect(s[0].zones).toEqual(['****REDACTED****'])
    expect(plugin(s[0], 'proxy')).toEqual({
      name: 'proxy',
      args: ['.', '****REDACTED****', '****REDACTED****'],
      block: [{ name: 'protocol', args: ['dns', 'force_tcp'] }],
    })
    expect(plugin(s[7], 'health')?.args).toEqual([':8080'])
  })

  it('commented-out options and a commented-out block are not plugins', () => {
    const { r, s } = servers(
      corpus(
        dir +
          'coredns-coredns-3498_standalone_bind-twice_commented-pprof-block_any-plugin.Corefile',
      ),
    )
    expect(r.problems).toEqual([])
    expect(s[0].plugins.map((p) => p.name)).not.toContain('pprof')
    expect(s[0].plugins.filter((p) => p.name === 'bind').map((p) => p.args)).toEqual([
      ['127.0.0.1'],
      ['10.64.8.3'],
    ])
    expect(plugin(s[0], 'forward')?.block.map((b) => b.name)).toEqual([
      'max_fails',
      'expire',
      'health_check',
      'policy',
    ])
  })

  it('trailing comments on plugin lines (Debian default)', () => {
    const { s } = servers(corpus(dir + 'coredns-deployment_debian.Corefile'))
    expect(s[0].plugins).toEqual([
      { name: 'whoami', args: [], block: [] },
      { name: 'log', args: [], block: [] },
      { name: 'errors', args: [], block: [] },
    ])
  })

  it('the truncated paste: the block is read, each ellipsis is a problem', () => {
    const { r, s } = servers(
      corpus(dir + 'coredns-coredns-4066_kops-nodelocal_truncated-with-ellipsis.Corefile'),
    )
    expect(s).toHaveLength(1)
    expect(plugin(s[0], 'cache')).toEqual({
      name: 'cache',
      args: ['30'],
      block: [
        { name: 'prefetch', args: ['3', '1m', '50%'] },
        { name: 'serve_stale', args: ['1h'] },
      ],
    })
    expect(plugin(s[0], 'forward')).toEqual({
      name: 'forward',
      args: ['.', '10.2.0.2'],
      block: [{ name: 'prefer_udp', args: [] }],
    })
    expect(r.problems).toEqual([
      { where: 'line 1', message: 'not a server block: "..."' },
      { where: 'line 19', message: 'not a server block: "..."' },
    ])
  })

  it('the template with STUBDOMAINS glued to the closing brace', () => {
    const { r, s } = servers(corpus(dir + 'coredns-deployment_kubernetes-template.Corefile'))
    expect(s[0].plugins).toHaveLength(10)
    expect(r.problems).toEqual([
      { where: 'line 18', message: 'text after a closing brace: "STUBDOMAINS"' },
    ])
  })

  it('ports, dnstap destinations and nested blocks (go-dnscollector)', () => {
    const tls = servers(corpus(dir + 'go-dnscollector_coredns_tls.Corefile')).s
    expect(tls[0]).toMatchObject({ zones: ['.'], port: 5553 })
    expect(plugin(tls[0], 'dnstap')).toEqual({
      name: 'dnstap',
      args: ['tls://127.0.0.1:6000', 'full'],
      block: [{ name: 'skipverify', args: [] }],
    })
    expect(
      plugin(servers(corpus(dir + 'go-dnscollector_coredns_unix.Corefile')).s[0], 'dnstap')?.args,
    ).toEqual(['/tmp/dnstap.sock', 'full'])
  })

  it('node-local-dns: four server blocks, bind with two addresses, indented closing braces', () => {
    const { r, s } = servers(corpus(dir + 'kubernetes-dns-394_node-cache-rendered.Corefile'))
    expect(r.problems).toEqual([])
    expect(s.map((x) => x.zones[0])).toEqual(['cluster.local', 'in-addr.arpa', 'ip6.arpa', '.'])
    expect(plugin(s[0], 'bind')?.args).toEqual(['169.254.20.10', '172.21.0.10'])
    expect(plugin(s[3], 'forward')).toEqual({
      name: 'forward',
      args: ['.', '/etc/resolv.conf'],
      block: [{ name: 'force_tcp', args: [] }],
    })
    expect(plugin(s[0], 'prometheus')?.args).toEqual([':9253'])
  })

  it('several zones and ports on one key, schemes, snippets with import, env placeholders, quotes', () => {
    const cf = [
      '(common) {',
      '  errors',
      '  cache 30',
      '}',
      'cluster.local:53 10.in-addr.arpa:53, example.org:1053 {',
      '  import common',
      '  forward . {$UPSTREAM} "8.8.8.8"  # a comment',
      '}',
      'tls://.:853 grpc://. {',
      '  tls cert.pem key.pem',
      '  import /etc/coredns/custom/*.server',
      '}',
      '.:{$DNS_PORT} {',
      '  log',
      '}',
    ].join('\n')
    const { r, s } = servers(text(cf))
    expect(r.problems).toEqual([])
    expect(s.map((x) => [x.zones, x.port, x.scheme])).toEqual([
      [['cluster.local', '10.in-addr.arpa'], 53, undefined],
      [['example.org'], 1053, undefined],
      [['.'], 853, 'tls'],
      [['.'], 443, 'grpc'],
      [['.'], NaN, undefined],
    ])
    expect(s[0].plugins).toEqual([
      { name: 'errors', args: [], block: [] },
      { name: 'cache', args: ['30'], block: [] },
      { name: 'forward', args: ['.', '{$UPSTREAM}', '8.8.8.8'], block: [] },
    ])
    expect(plugin(s[2], 'import')?.args).toEqual(['/etc/coredns/custom/*.server'])
  })

  it('malformed: stray brace, unclosed block, hostile nesting and a hostile line', () => {
    const r = run(
      corefile,
      text(`}\n.:53 {\n  forward . 1.1.1.1 {\n    max_fails 3\n${HOSTILE_LINE}\n`),
    )
    const s = facts(r.events, 'corefile')[0].servers
    expect(plugin(s[0], 'forward')?.block[0]).toEqual({ name: 'max_fails', args: ['3'] })
    expect(r.problems.map((p) => p.message)).toEqual([
      'a closing brace without a block',
      'block not closed before the end of the file',
      'block not closed before the end of the file',
    ])
    const deep = run(corefile, text('.:53 {\n' + 'a {\n'.repeat(5000) + '}\n'.repeat(5001)))
    expect(deep.problems.some((p) => /nested deeper/.test(p.message))).toBe(true)
  })
})
