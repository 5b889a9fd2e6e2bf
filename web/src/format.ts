// Formatting of numbers and times for display. Report values may come from an untrusted shared
// report, so every helper accepts anything and never throws.

export function num(v: unknown): string {
  return typeof v === 'number' && Number.isFinite(v) ? v.toLocaleString('en-US') : '—'
}

export function ms(v: unknown): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '—'
  if (v >= 1000) return `${(v / 1000).toFixed(v >= 10_000 ? 1 : 2)} s`
  if (v >= 100) return `${v.toFixed(0)} ms`
  if (v >= 1) return `${v.toFixed(1)} ms`
  return `${v.toFixed(3)} ms`
}

export function pct(part: number, whole: number): string {
  if (!whole) return '—'
  const p = (100 * part) / whole
  return `${p < 10 ? p.toFixed(1) : p.toFixed(0)}%`
}

export function bytes(v: unknown): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '—'
  if (v < 1024) return `${v} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let x = v / 1024
  let i = 0
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024
    i++
  }
  return `${x.toFixed(x >= 100 ? 0 : 1)} ${units[i]}`
}

/** µs since the epoch → `2024-05-01 12:00:01.123456` (UTC). */
export function timeUs(v: unknown): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '—'
  const d = new Date(Math.floor(v / 1000))
  if (Number.isNaN(d.getTime())) return '—'
  const iso = d.toISOString()
  const micro = String(Math.floor(((v % 1e6) + 1e6) % 1e6)).padStart(6, '0')
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${micro}`
}

/** µs since the epoch → `12:00:01.123456` (UTC), for dense tables. */
export function clockUs(v: unknown): string {
  const t = timeUs(v)
  return t === '—' ? t : t.slice(11)
}

export function str(v: unknown): string {
  if (typeof v === 'string') return v
  if (v === null || v === undefined) return ''
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  return JSON.stringify(v)
}

export function arr<T = unknown>(v: unknown): T[] {
  return Array.isArray(v) ? (v as T[]) : []
}

export function confidence(v: unknown): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return ''
  const p = v <= 1 ? v * 100 : v
  return `${Math.round(p)}%`
}
