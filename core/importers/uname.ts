// `uname -r` (a kernel release: 5.10.0-21-amd64) and `uname -a` (Linux <nodename> <release>
// <version...> <machine> [<processor> <platform>] GNU/Linux), as printed by GNU coreutils uname.
import type { FactEvent } from '../model/event.js'
import type { Importer, Problem } from './importer.js'
import { headLines, lineBase, lineProblem, nonBlank, PROMPT_RE, textLines } from './text-lines.js'

// 5.15.0-1034-azure, 6.1.0-18-amd64, 4.19.91-26.al7.x86_64, 6.18.44-fc-v509
const RELEASE = /^\d+\.\d+(?:\.\d+)?(?:[-+_.~][\w.+~-]*)?$/
// Linux vm 6.18.44-fc-v509 #1 SMP PREEMPT_DYNAMIC @0 x86_64 GNU/Linux
const UNAME_A =
  /^Linux\s+(\S+)\s+(\d+\.\d+\S*)\s+(#.*?)\s+(x86_64|aarch64|arm64|armv\w+|i[3-6]86|ppc64le|s390x|riscv64|mips\w*|loongarch64)(?:\s+\S+)*?\s*(?:GNU\/Linux)?$/

function factOf(text: string): FactEvent['fact'] | null {
  const t = text.trim()
  if (RELEASE.test(t) && t.length <= 128) return { type: 'kernel', release: t }
  const a = UNAME_A.exec(t)
  if (a && RELEASE.test(a[2]))
    return { type: 'kernel', release: a[2], hostname: a[1], machine: a[4] }
  return null
}

export const uname: Importer = {
  id: 'uname',
  title: 'uname -r / uname -a',
  binary: false,
  sniff(head) {
    const lines = headLines(head, 20)
    if (!lines) return false
    const data = nonBlank(lines, 10).filter((l) => !PROMPT_RE.test(l))
    // The whole file is one release or one uname -a line (a prompt line above it is allowed).
    return data.length === 1 && factOf(data[0]) !== null
  },
  parse(input) {
    const events: FactEvent[] = []
    const problems: Problem[] = []
    for (const l of textLines(input.bytes)) {
      if (l.text.trim() === '' || PROMPT_RE.test(l.text)) continue
      const fact = factOf(l.text)
      if (fact) events.push({ ...lineBase(input, l), kind: 'fact', fact })
      else problems.push(lineProblem(l, 'not a kernel release or uname -a line'))
    }
    return { events, problems }
  },
}
