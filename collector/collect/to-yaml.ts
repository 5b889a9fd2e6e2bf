// A small JSON → YAML emitter, so objects the API returns as JSON land in the bundle in the form
// an engineer pastes (and the pod-spec importer reads): block style, strings quoted when needed.

export function toYaml(value: unknown, indent = 0): string {
  return emit(value, indent).replace(/^\n/, '') + '\n'
}

function emit(v: unknown, indent: number): string {
  const pad = '  '.repeat(indent)
  if (Array.isArray(v)) {
    if (v.length === 0) return ' []'
    return v
      .map((item) => {
        const body = emit(item, indent + 1)
        return `\n${pad}-${body.startsWith('\n') ? body.replace(/^\n\s*/, ' ') : body}`
      })
      .join('')
  }
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
    if (entries.length === 0) return ' {}'
    return entries.map(([k, val]) => `\n${pad}${scalar(k)}:${emit(val, indent + 1)}`).join('')
  }
  return ' ' + scalar(v)
}

function scalar(v: unknown): string {
  if (v === null || v === undefined) return 'null'
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  const s = String(v)
  if (s.includes('\n')) return JSON.stringify(s)
  if (
    s === '' ||
    /^[\s-?:,[\]{}#&*!|>'"%@`]|[:#]\s|\s$|^(true|false|null|yes|no|~|[-+]?[\d.]+)$/i.test(s)
  )
    return JSON.stringify(s)
  return s
}
