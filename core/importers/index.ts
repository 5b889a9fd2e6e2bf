// The importer registry and content detection: magic bytes first, then the manifest's hint,
// then a text sniff of the head. A file name is never enough on its own.
import type { Importer } from './importer.js'
import { pcapImporter } from './pcap.js'
import { pcapngImporter } from './pcapng.js'
import { corednsLogImporter } from './coredns-log.js'
import { prometheusImporter } from './prometheus.js'
import { dnstapImporter, describeBareDnstap } from './dnstap.js'
import { bpfDropTable } from './bpf-drop-table.js'
import { gethostlatency } from './gethostlatency.js'
import { pwru } from './pwru.js'
import { nettrace } from './nettrace.js'
import { conntrackStats } from './conntrack-stats.js'
import { conntrackList } from './conntrack-list.js'
import { ipvsadm } from './ipvsadm.js'
import { kubeProxyMode } from './kube-proxy-mode.js'
import { k8sManifest } from './k8s-manifest.js'
import { corefile } from './corefile.js'
import { resolvConf } from './resolv-conf.js'
import { conntrackCount } from './conntrack-count.js'
import { kernelLog } from './kernel-log.js'
import { uname } from './uname.js'

/** Binary formats first (checked by magic bytes), then text formats, most specific first. */
export const importers: readonly Importer[] = [
  pcapImporter,
  pcapngImporter,
  dnstapImporter,
  corednsLogImporter,
  // Kernel traces: found by a header row or a tool's own line shapes.
  bpfDropTable,
  gethostlatency,
  pwru,
  nettrace, // before kernel-log: its trace lines start with a dmesg-like [seconds] stamp
  // Node facts. kube-proxy-mode before k8s-manifest (a KubeProxyConfiguration is also a manifest),
  // k8s-manifest before corefile (a ConfigMap holds a Corefile), the loosest sniffers last.
  conntrackStats,
  conntrackList,
  ipvsadm,
  kubeProxyMode,
  k8sManifest,
  corefile,
  resolvConf,
  conntrackCount, // before prometheus: `nf_conntrack_count 1234` is also valid exposition text
  kernelLog,
  uname,
  prometheusImporter,
]

/** How many bytes of a file detection looks at. */
export const SNIFF_BYTES = 64 * 1024

/** Picks the importer for a file, or null with the reason it was not recognised. */
export function detectImporter(
  head: Uint8Array,
  name: string,
  hint?: string,
): { importer: Importer } | { importer: null; reason: string } {
  for (const imp of importers) if (imp.binary && imp.sniff(head, name)) return { importer: imp }
  if (hint) {
    const hinted = importers.find((imp) => imp.id === hint && !imp.binary)
    if (hinted && hinted.sniff(head, name)) return { importer: hinted }
  }
  for (const imp of importers) if (!imp.binary && imp.sniff(head, name)) return { importer: imp }
  return { importer: null, reason: describeUnknown(head) }
}

function describeUnknown(head: Uint8Array): string {
  if (head.length === 0) return 'empty file'
  const bareDnstap = describeBareDnstap(head)
  if (bareDnstap) return bareDnstap
  let printable = 0
  const n = Math.min(head.length, 512)
  for (let i = 0; i < n; i++) {
    const b = head[i]
    if (b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127) || b >= 0xc0) printable++
  }
  const magic = Array.from(head.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ')
  return printable / n > 0.9
    ? 'unrecognised text format (no known header or line pattern in the first lines)'
    : `unrecognised binary format (magic ${magic})`
}
