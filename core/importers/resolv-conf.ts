// resolv.conf as glibc reads it (resolv/res_init.c, resolv.conf(5)): nameserver, search/domain
// (the last one wins), options ndots:n (max 15), timeout:n (max 30), attempts:n (max 5) and
// flags (rotate, edns0, single-request, single-request-reopen, use-vc, trust-ad, ...).
// Defaults when absent: ndots 1, timeout 5, attempts 2. `#` and `;` start comments.
import type { FactEvent } from '../model/event.js'
import type { Importer, Problem } from './importer.js'
import { headLines, lineProblem, nonBlank, textLines, type TextLine } from './text-lines.js'

const KEYWORD = /^(nameserver|search|domain|options|sortlist|lookup|family)(?:\s+(.*))?$/
const LIMITS = { ndots: 15, timeout: 30, attempts: 5 } as const

type ResolvConf = Extract<FactEvent['fact'], { type: 'resolv-conf' }>

export const resolvConf: Importer = {
  id: 'resolv-conf',
  title: 'resolv.conf',
  binary: false,
  sniff(head) {
    const lines = headLines(head, 200)
    if (!lines) return false
    const data = nonBlank(lines, 50).filter((l) => !/^\s*[#;]/.test(l))
    if (data.length === 0) return false
    const ours = data.filter((l) => KEYWORD.test(l.trim()))
    // nameserver lines, or search/options that only a resolver file has; nothing else.
    return (
      ours.length === data.length &&
      ours.some((l) => /^\s*(?:nameserver\s+\S+|options\s+\S+|search\s+\S+)/.test(l))
    )
  },
  parse(input) {
    const problems: Problem[] = []
    const fact: ResolvConf = {
      type: 'resolv-conf',
      nameservers: [],
      search: [],
      ndots: 1,
      timeout: 5,
      attempts: 2,
      options: [],
    }
    let first: TextLine | null = null
    for (const l of textLines(input.bytes)) {
      const text = l.text.replace(/[#;].*$/, '').trim()
      if (text === '') continue
      const m = KEYWORD.exec(text)
      if (!m) {
        problems.push(lineProblem(l, 'not a resolv.conf line'))
        continue
      }
      first ??= l
      const args = (m[2] ?? '').split(/\s+/).filter(Boolean)
      switch (m[1]) {
        case 'nameserver':
          if (args.length) fact.nameservers.push(args[0])
          else problems.push(lineProblem(l, 'nameserver without an address'))
          break
        case 'search':
        case 'domain':
          fact.search = m[1] === 'domain' ? args.slice(0, 1) : args
          break
        case 'options':
          for (const opt of args) option(fact, opt, l, problems)
          break
      }
    }
    if (fact.nameservers.length > 3)
      problems.push({
        where: 'file',
        message: `glibc uses only the first 3 of ${fact.nameservers.length} nameservers`,
      })
    const base = first ?? { line: 1, offset: 0 }
    return {
      events: [
        {
          input: input.index,
          ref: base.line,
          offset: base.offset,
          vantage: '',
          time: NaN,
          kind: 'fact',
          fact,
        },
      ],
      problems,
    }
  },
}

function option(fact: ResolvConf, opt: string, l: TextLine, problems: Problem[]) {
  const m = /^(ndots|timeout|attempts):(\d+)$/.exec(opt)
  if (!m) {
    fact.options.push(opt)
    return
  }
  const key = m[1] as keyof typeof LIMITS
  // glibc clamps the value to its maximum.
  fact[key] = Math.min(Number(m[2]), LIMITS[key])
  if (Number(m[2]) > LIMITS[key])
    problems.push({
      where: `line ${l.line}`,
      message: `${key}:${m[2]} is capped to ${LIMITS[key]} by glibc`,
    })
}
