// A CoreDNS Corefile: server blocks (zones, port, transport) and their plugins with arguments and
// block lines (forward, cache, autopath, log, dnstap, prometheus, loop, ...). The syntax lives in
// corefile-syntax.ts (shared with the Kubernetes manifest importer, which finds Corefiles inside
// ConfigMaps).
import type { Importer } from './importer.js'
import { COREDNS_PLUGINS, parseCorefile, tokenize } from './corefile-syntax.js'
import { headLines, textLines } from './text-lines.js'

export const corefile: Importer = {
  id: 'corefile',
  title: 'CoreDNS Corefile',
  binary: false,
  sniff(head) {
    const lines = headLines(head, 400)
    if (!lines) return false
    // A Kubernetes manifest may hold a Corefile; it is not one.
    if (lines.some((l) => /^(?:apiVersion|kind):\s/.test(l))) return false
    const tokens = tokenize(lines)
    // A server key and `{` on one line, then a known plugin first on a later line.
    for (let i = 0; i + 1 < tokens.length; i++) {
      const t = tokens[i]
      const open = tokens[i + 1]
      if (t.brace || !open.brace || open.text !== '{' || open.line !== t.line) continue
      if (
        !/^(?:[a-z]+:\/\/)?(?:\.|[^\s:]*\.[^\s:]*|\([\w-]+\)|[\w.*-]+)?(?::(?:\d+|\{\$\w+\}))?$/.test(
          t.text,
        )
      )
        continue
      if (!/[.:(]/.test(t.text)) continue
      const next = tokens.slice(i + 2).find((x) => !x.brace && x.line > open.line)
      if (next && COREDNS_PLUGINS.has(next.text)) return true
    }
    return false
  },
  parse(input) {
    const lines: string[] = []
    let firstData = -1
    let offset = 0
    for (const l of textLines(input.bytes)) {
      lines.push(l.text)
      if (firstData < 0 && l.text.trim() !== '' && !l.text.trim().startsWith('#')) {
        firstData = l.line
        offset = l.offset
      }
    }
    const { servers, problems } = parseCorefile(lines)
    if (servers.length === 0) problems.push({ where: 'file', message: 'no server block found' })
    return {
      events: [
        {
          input: input.index,
          ref: Math.max(firstData, 1),
          offset,
          vantage: '',
          time: NaN,
          kind: 'fact',
          fact: { type: 'corefile', servers },
        },
      ],
      problems,
    }
  },
}
