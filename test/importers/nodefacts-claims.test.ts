// The kernel-trace and node-fact sniffers claim their own formats and nothing else: no capture,
// dnstap, CoreDNS log, Prometheus text or JSON, whatever the file is called.
import { describe, expect, it } from 'vitest'
import { importers, detectImporter, SNIFF_BYTES } from '../../core/importers/index.js'
import { corpus, corpusFiles, run, text } from './nodefacts-helpers.js'

const OURS = [
  'bpf-drop-table',
  'gethostlatency',
  'pwru',
  'nettrace',
  'conntrack-stats',
  'conntrack-list',
  'ipvsadm',
  'kube-proxy-mode',
  'k8s-manifest',
  'corefile',
  'resolv-conf',
  'conntrack-count',
  'kernel-log',
  'uname',
]
const ours = importers.filter((i) => OURS.includes(i.id))

function claimants(bytes: Uint8Array): string[] {
  return ours.filter((i) => i.sniff(bytes.subarray(0, SNIFF_BYTES), 'x')).map((i) => i.id)
}

describe('kernel-trace and node-fact importers', () => {
  it('are all registered as text importers', () => {
    expect(ours.map((i) => i.id).sort()).toEqual([...OURS].sort())
    for (const i of ours) expect(i.binary).toBe(false)
  })

  it('claim no file of the other kinds in the corpus', () => {
    const others = ['pcap', 'dnstap', 'coredns-log', 'metrics', 'bpf/metrics'].flatMap((d) =>
      corpusFiles(d),
    )
    expect(others.length).toBeGreaterThan(200)
    for (const f of others) expect(claimants(corpus(f)), f).toEqual([])
  })

  it('claim no CoreDNS log line, Prometheus text, JSON or binary header', () => {
    const samples = [
      '[INFO] 10.0.0.1:1234 - 5 "A IN example.org. udp 29 false 512" NOERROR qr,rd,ra 45 0.000123s\n',
      '2021-10-26T07:43:24.507437718Z [INFO] 172.20.2.7:48376 - 51559 "AAAA IN database.default.svc.cluster.local. udp 52 false 512" NOERROR qr,aa,rd 145 0.000135929s\n',
      '2021-10-26T07:43:24.507437718Z stdout F [ERROR] plugin/errors: 2 example.org. A: read udp 10.0.0.1:5353->8.8.8.8:53: i/o timeout\n',
      '.:53\nCoreDNS-1.8.0\nlinux/amd64, go1.15.3, 054c9ae\n[INFO] plugin/reload: Running configuration MD5 = 1\n',
      '# HELP coredns_dns_requests_total Counter of DNS requests made per zone, protocol and family.\n# TYPE coredns_dns_requests_total counter\ncoredns_dns_requests_total{family="1",proto="udp",server="dns://:53",type="A",zone="."} 42\n',
      'coredns_cache_entries{server="dns://:53",type="denial"} 68\ncoredns_cache_entries{server="dns://:53",type="success"} 19\n',
      '{"kind":"Pod","apiVersion":"v1","spec":{"containers":[{"name":"coredns"}]}}\n',
      '[{"skb":"0xffff","func":"kfree_skb_reason"}]\n',
      'ipv4 nf_conntrack_count 5\n',
    ]
    for (const s of samples) expect(claimants(text(s)), s).toEqual([])
    const binaries = [
      [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0],
      [0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a],
      [
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0x22,
        0,
        0,
        0,
        2,
        0,
        0,
        0,
        1,
        0,
        0,
        0,
        0x16,
        ...text('protobuf:dnstap.Dnstap'),
      ],
      [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3],
    ]
    for (const b of binaries) expect(claimants(new Uint8Array(b))).toEqual([])
  })

  it('each file of their kinds in the corpus is detected by content as the right format', () => {
    const expected: [string, string | null][] = [
      ['bpf/bcc/gethostlatency_example.txt', 'gethostlatency'],
      ['bpf/bcc/tcpconnect_example.txt', null],
      ['bpf/bcc/tcpdrop_example.txt', 'bpf-drop-table'],
      ['bpf/bpftrace/gethostlatency_example.txt', 'gethostlatency'],
      ['bpf/bpftrace/tcpdrop_example.txt', 'bpf-drop-table'],
      ['bpf/other/', 'nettrace'],
      ['bpf/pwru/', 'pwru'],
      ['config/corefile/', 'corefile'],
      ['config/k8s-manifests/', 'k8s-manifest'],
      ['config/resolv.conf/', 'resolv-conf'],
      ['node/conntrack/kubernetes-kubernetes-125467', 'conntrack-list'],
      ['node/conntrack/', 'conntrack-stats'],
      ['node/ipvs/', 'ipvsadm'],
      ['node/kernel-log/', 'kernel-log'],
    ]
    const files = ['bpf/bcc', 'bpf/bpftrace', 'bpf/other', 'bpf/pwru', 'config', 'node'].flatMap(
      (d) => corpusFiles(d),
    )
    expect(files).toHaveLength(38)
    for (const f of files) {
      const want = expected.find(([prefix]) => f.startsWith(prefix))
      expect(want, f).toBeDefined()
      const found = detectImporter(corpus(f).subarray(0, SNIFF_BYTES), 'meaningless.bin')
      expect(found.importer?.id ?? null, f).toBe(want![1])
      // Bytes in, events or problems out: never a throw.
      if (found.importer) expect(() => run(found.importer!, corpus(f))).not.toThrow()
    }
  })
})
