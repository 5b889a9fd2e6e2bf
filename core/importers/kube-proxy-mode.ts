// kube-proxy's mode: the body of `curl localhost:10249/proxyMode` (one word: iptables, ipvs,
// nftables, kernelspace; userspace before 1.26), or a KubeProxyConfiguration (the kube-proxy
// ConfigMap's config.conf, kubernetes pkg/proxy/apis/config/types.go) with its `mode:` line.
// An empty mode means the platform default: iptables on Linux.
import type { FactEvent } from '../model/event.js'
import type { Importer, Problem } from './importer.js'
import { headLines, lineBase, lineProblem, nonBlank, PROMPT_RE, textLines } from './text-lines.js'

const MODES = /^(iptables|ipvs|nftables|userspace|kernelspace)$/
// mode: "ipvs"   |   mode: ipvs   |   mode: ''
const MODE_LINE = /^(\s*)mode:\s*(?:"([^"]*)"|'([^']*)'|([\w-]*))\s*(?:#.*)?$/

export const kubeProxyMode: Importer = {
  id: 'kube-proxy-mode',
  title: 'kube-proxy mode',
  binary: false,
  sniff(head) {
    const lines = headLines(head, 2000)
    if (!lines) return false
    const data = nonBlank(lines, 5).filter((l) => !PROMPT_RE.test(l))
    if (data.length === 1 && MODES.test(data[0].trim())) return true
    return lines.some((l) => /^\s*kind:\s*KubeProxyConfiguration\s*$/.test(l))
  },
  parse(input) {
    const events: FactEvent[] = []
    const problems: Problem[] = []
    const lines = [...textLines(input.bytes)]
    // In a KubeProxyConfiguration the mode is a top-level key: same indentation as `kind:`.
    const kind = lines.find((l) => /^\s*kind:\s*KubeProxyConfiguration\s*$/.test(l.text))
    const indent = kind ? /^\s*/.exec(kind.text)![0].length : -1
    for (const l of lines) {
      const text = l.text.trim()
      if (text === '' || PROMPT_RE.test(l.text)) continue
      let mode: string | null = null
      if (indent < 0) {
        const word = MODES.exec(text)
        if (word) mode = word[1]
        else problems.push(lineProblem(l, 'not a kube-proxy mode'))
      } else {
        const m = MODE_LINE.exec(l.text)
        if (m && m[1].length === indent)
          mode = (m[2] ?? m[3] ?? m[4] ?? '').toLowerCase() || 'iptables'
      }
      if (mode === null) continue
      if (!MODES.test(mode))
        problems.push({
          where: `line ${l.line}`,
          message: `unknown kube-proxy mode ${JSON.stringify(mode.slice(0, 40))}`,
        })
      events.push({ ...lineBase(input, l), kind: 'fact', fact: { type: 'kube-proxy-mode', mode } })
    }
    if (events.length === 0) problems.push({ where: 'file', message: 'no kube-proxy mode found' })
    return { events, problems }
  },
}
