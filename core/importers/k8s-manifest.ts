// Kubernetes manifests as YAML (`kubectl get deploy/pod/cm -o yaml`, coredns/deployment
// kubernetes/coredns.yaml.sed): the CoreDNS containers' CPU limits (resources.limits.cpu), the
// CoreDNS version in their image tag, and Corefiles held in ConfigMaps (`Corefile: |`).
// A line-based reader of the YAML subset manifests use (block mappings, `- ` lists, `|` / `>`
// block scalars, comments); flow collections are kept as opaque values. No YAML dependency.
import type { FactEvent } from '../model/event.js'
import type { Importer, ImportInput, Problem } from './importer.js'
import { parseCorefile } from './corefile-syntax.js'
import { headLines, lineBase, textLines, type TextLine } from './text-lines.js'

// `  - name: coredns`, `    cpu: 100m  # comment`, `  Corefile: |`
const LINE = /^( *)(- +)?([^\s:#][^:#]*?|"[^"]*"|'[^']*'):(?:\s+(.*?))?\s*$/
const LIST_ITEM = /^( *)- +(.*)$/

interface Container {
  name: string
  image: string
  cpuLimit: string
  line: TextLine
  limitLine: TextLine | null
}

export const k8sManifest: Importer = {
  id: 'k8s-manifest',
  title: 'Kubernetes manifest (YAML)',
  binary: false,
  sniff(head) {
    const lines = headLines(head, 400)
    if (!lines) return false
    return (
      lines.some((l) => /^(?:- )?apiVersion:\s*\S/.test(l)) &&
      lines.some((l) => /^(?:- |\s*)kind:\s*[A-Z]\w*\s*$/.test(l))
    )
  },
  parse(input) {
    const events: FactEvent[] = []
    const problems: Problem[] = []
    const containers: Container[] = []
    const stack: { indent: number; key: string; item?: Container | null }[] = []
    let scalar: { indent: number; key: string; lines: TextLine[] } | null = null
    const endScalar = () => {
      if (scalar && scalar.key === 'Corefile') corefileFact(input, scalar.lines, events, problems)
      scalar = null
    }
    for (const l of textLines(input.bytes)) {
      const text = l.text
      const indent = /^ */.exec(text)![0].length
      if (scalar) {
        if (text.trim() === '' || indent > scalar.indent) {
          scalar.lines.push(l)
          continue
        }
        endScalar()
      }
      if (/^(?:---|\.\.\.)\s*$/.test(text)) {
        stack.length = 0
        continue
      }
      const body = text.replace(/(^|\s)#.*$/, '')
      if (body.trim() === '') continue
      let keyIndent = indent
      const item = LIST_ITEM.exec(body)
      if (item) {
        // A list may sit at its key's own indentation: pop deeper keys and the previous item only.
        const top = () => stack[stack.length - 1]
        while (
          stack.length &&
          (top().indent > indent || (top().key === '[]' && top().indent >= indent))
        )
          stack.pop()
        const parent = stack[stack.length - 1]?.key
        const container =
          parent === 'containers' || parent === 'initContainers'
            ? { name: '', image: '', cpuLimit: '', line: l, limitLine: null }
            : null
        if (container) containers.push(container)
        stack.push({ indent, key: '[]', item: container })
        keyIndent = item[0].length - item[2].length // the column after `- `
      } else {
        while (stack.length && stack[stack.length - 1].indent >= indent) stack.pop()
      }
      const m = LINE.exec(item ? ' '.repeat(keyIndent) + item[2] : body)
      if (!m) continue
      const key = m[3].replace(/^["']|["']$/g, '')
      const value = (m[4] ?? '').replace(/^(["'])(.*)\1$/, '$2')
      if (value === '|' || value === '>' || /^[|>][+-]?\d*$/.test(value)) {
        scalar = { indent: keyIndent, key, lines: [] }
        continue
      }
      if (value === '') {
        stack.push({ indent: keyIndent, key })
        continue
      }
      const path = stack.map((s) => s.key)
      const owner = [...stack].reverse().find((s) => s.key === '[]')
      const container = owner?.item
      if (!container) continue
      const rel = path.slice(path.lastIndexOf('[]') + 1)
      if (rel.length === 0 && key === 'name') container.name = value
      else if (rel.length === 0 && key === 'image') container.image = value
      else if (rel.join('.') === 'resources.limits' && key === 'cpu') {
        container.cpuLimit = value
        container.limitLine = l
      }
    }
    endScalar()
    for (const c of containers) {
      if (!/coredns|node-cache/i.test(`${c.name} ${c.image}`)) continue
      const version = /coredns\/coredns:v?(\d+\.\d+\.\d+)\b/.exec(c.image)
      if (version)
        events.push({
          ...lineBase(input, c.line),
          kind: 'fact',
          fact: { type: 'coredns-version', version: version[1] },
        })
      if (!c.limitLine) continue
      const millicores = cpuMillicores(c.cpuLimit)
      if (Number.isNaN(millicores)) {
        problems.push({
          where: `line ${c.limitLine.line}`,
          message: `bad CPU quantity ${JSON.stringify(c.cpuLimit.slice(0, 40))}`,
        })
        continue
      }
      events.push({
        ...lineBase(input, c.limitLine),
        kind: 'fact',
        fact: { type: 'cpu-limit', container: c.name, millicores },
      })
    }
    return { events, problems }
  },
}

/** A Kubernetes CPU quantity in millicores: `100m`, `0.5`, `2`, `1500m`. */
export function cpuMillicores(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(q.trim())
  if (!m) return NaN
  return m[2] ? Number(m[1]) : Math.round(Number(m[1]) * 1000)
}

function corefileFact(
  input: ImportInput,
  lines: TextLine[],
  events: FactEvent[],
  problems: Problem[],
) {
  const content = lines.filter((l) => l.text.trim() !== '')
  if (content.length === 0) return
  const indent = Math.min(...content.map((l) => /^ */.exec(l.text)![0].length))
  const { servers, problems: p } = parseCorefile(
    lines.map((l) => l.text.slice(Math.min(indent, /^ */.exec(l.text)![0].length))),
    lines[0].line,
  )
  problems.push(...p)
  events.push({ ...lineBase(input, content[0]), kind: 'fact', fact: { type: 'corefile', servers } })
}
