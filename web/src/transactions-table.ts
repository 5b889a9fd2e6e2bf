// The transactions table: sortable by any column, filterable by text and status, and virtualized
// (only the visible rows exist in the DOM), so 100k transactions stay responsive.
import type { ReportTransaction } from '../../core/model/report.js'
import { h } from './dom.js'
import { clockUs, ms, str } from './format.js'

const ROW_H = 22
/** Rows rendered above and below the visible window, so fast scrolling shows no gaps. */
const OVERSCAN = 10

interface Column {
  key: string
  title: string
  cls: string
  text: (t: ReportTransaction) => string
  /** Sort key: numbers sort numerically, null always last. */
  sort: (t: ReportTransaction) => number | string | null
}

const numOrNull = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null)

export function statusOf(t: ReportTransaction): string {
  if (!t.answered) return 'unanswered'
  return str(t.rcode) || 'answered'
}

const COLUMNS: Column[] = [
  {
    key: 'time',
    title: 'First sent',
    cls: 'c-time',
    text: (t) => clockUs(t.firstSent),
    sort: (t) => numOrNull(t.firstSent),
  },
  {
    key: 'client',
    title: 'Client',
    cls: 'c-addr',
    text: (t) => str(t.client),
    sort: (t) => str(t.client),
  },
  {
    key: 'server',
    title: 'Server',
    cls: 'c-addr',
    text: (t) => str(t.server),
    sort: (t) => str(t.server),
  },
  { key: 'id', title: 'ID', cls: 'c-num', text: (t) => str(t.id), sort: (t) => numOrNull(t.id) },
  {
    key: 'qname',
    title: 'Query name',
    cls: 'c-name',
    text: (t) => str(t.qname),
    sort: (t) => str(t.qname),
  },
  {
    key: 'qtype',
    title: 'Type',
    cls: 'c-type',
    text: (t) => str(t.qtype),
    sort: (t) => str(t.qtype),
  },
  { key: 'rcode', title: 'Rcode', cls: 'c-rcode', text: statusOf, sort: statusOf },
  {
    key: 'copies',
    title: 'Copies',
    cls: 'c-num',
    text: (t) => str(t.copies),
    sort: (t) => numOrNull(t.copies),
  },
  {
    key: 'latency',
    title: 'Latency',
    cls: 'c-num',
    text: (t) => ms(t.latencyMs),
    sort: (t) => numOrNull(t.latencyMs),
  },
  {
    key: 'lastSeen',
    title: 'Last seen',
    cls: 'c-vantage',
    text: (t) => str(t.lastSeen),
    sort: (t) => str(t.lastSeen),
  },
]

export interface TransactionsTable {
  el: HTMLElement
  /** Shows only these transaction indexes (from a chart or a lookup), or all with null. */
  focus(indexes: number[] | null, label?: string): void
}

/**
 * Builds the table.
 * @example
 *   const table = transactionsTable(report.transactions ?? [], (t) => showDetail(t))
 *   section.append(table.el)
 */
export function transactionsTable(
  txs: ReportTransaction[],
  onSelect: (t: ReportTransaction, index: number) => void,
): TransactionsTable {
  let sortCol: Column = COLUMNS[0]
  let sortDir = 1
  let text = ''
  let status = 'all'
  let focusSet: Set<number> | null = null
  let view: number[] = []
  let selected = -1
  const haystacks: (string | undefined)[] = new Array(txs.length)

  const filterInput = h('input', {
    type: 'search',
    class: 'tx-filter',
    placeholder: 'Filter: name, address, id, type, rcode, vantage…',
    'aria-label': 'Filter transactions',
    'data-testid': 'tx-filter',
  })
  const statusSelect = h('select', { 'aria-label': 'Status', 'data-testid': 'tx-status' })
  const rcodes = new Map<string, number>()
  let unanswered = 0
  let retried = 0
  for (const t of txs) {
    if (!t.answered) unanswered++
    else rcodes.set(str(t.rcode), (rcodes.get(str(t.rcode)) ?? 0) + 1)
    if (typeof t.copies === 'number' && t.copies > 1) retried++
  }
  const opt = (value: string, label: string) => h('option', { value }, label)
  statusSelect.append(
    opt('all', `All (${txs.length})`),
    opt('answered', `Answered (${txs.length - unanswered})`),
    opt('unanswered', `Unanswered (${unanswered})`),
    opt('retried', `Retransmitted (${retried})`),
  )
  for (const [rc, n] of [...rcodes].sort((a, b) => b[1] - a[1]))
    statusSelect.append(opt('rcode:' + rc, `${rc || '(none)'} (${n})`))

  const count = h('span', { class: 'tx-count', 'data-testid': 'tx-count' })
  const focusNote = h('span', { class: 'tx-focus', hidden: true })
  const clearFocus = h('button', { type: 'button', class: 'btn small', hidden: true }, 'Show all')
  clearFocus.addEventListener('click', () => api.focus(null))

  const headCells = COLUMNS.map((c) => {
    const b = h(
      'button',
      { type: 'button', class: `th ${c.cls}`, 'data-col': c.key, role: 'columnheader' },
      c.title,
    )
    b.addEventListener('click', () => {
      if (sortCol === c) sortDir = -sortDir
      else {
        sortCol = c
        sortDir = c.key === 'latency' || c.key === 'copies' ? -1 : 1
      }
      refresh()
    })
    return b
  })
  const head = h('div', { class: 'tx-row tx-head', role: 'row' }, headCells)
  const sizer = h('div', { class: 'tx-sizer' })
  const rowsBox = h('div', { class: 'tx-rows', role: 'rowgroup' })
  const viewport = h('div', { class: 'tx-viewport', tabindex: 0 }, sizer, rowsBox)
  const empty = h('div', { class: 'tx-empty', hidden: true }, 'No transaction matches the filter.')
  const pool: HTMLElement[] = []

  const el = h(
    'div',
    {
      class: 'tx-table',
      'data-testid': 'transactions',
      role: 'table',
      'aria-label': 'Transactions',
    },
    h(
      'div',
      { class: 'tx-toolbar' },
      filterInput,
      statusSelect,
      focusNote,
      clearFocus,
      h('span', { class: 'spacer' }),
      count,
    ),
    h('div', { class: 'tx-scroll' }, head, viewport, empty),
  )

  function haystack(i: number): string {
    let s = haystacks[i]
    if (s === undefined) {
      const t = txs[i]
      s = [t.client, t.server, t.id, t.qname, t.qtype, statusOf(t), t.lastSeen, t.transport]
        .map(str)
        .join(' ')
        .toLowerCase()
      haystacks[i] = s
    }
    return s
  }

  function matches(i: number): boolean {
    const t = txs[i]
    if (focusSet && !focusSet.has(i)) return false
    if (status === 'answered' && !t.answered) return false
    if (status === 'unanswered' && t.answered) return false
    if (status === 'retried' && !(typeof t.copies === 'number' && t.copies > 1)) return false
    if (status.startsWith('rcode:') && (!t.answered || str(t.rcode) !== status.slice(6)))
      return false
    if (!text) return true
    const hay = haystack(i)
    // Every whitespace-separated term must match (AND).
    for (const term of text.split(/\s+/)) if (term && !hay.includes(term)) return false
    return true
  }

  function refresh() {
    view = []
    for (let i = 0; i < txs.length; i++) if (matches(i)) view.push(i)
    sortView()
    for (const b of headCells) {
      const active = b.dataset.col === sortCol.key
      b.classList.toggle('sorted', active)
      b.setAttribute('aria-sort', active ? (sortDir > 0 ? 'ascending' : 'descending') : 'none')
      b.dataset.dir = active ? (sortDir > 0 ? 'asc' : 'desc') : ''
    }
    count.textContent =
      view.length === txs.length
        ? `${txs.length.toLocaleString('en-US')} transactions`
        : `${view.length.toLocaleString('en-US')} of ${txs.length.toLocaleString('en-US')} transactions`
    count.dataset.shown = String(view.length)
    count.dataset.total = String(txs.length)
    sizer.style.height = `${view.length * ROW_H}px`
    // Short lists get a short table; long ones scroll inside the CSS max-height.
    viewport.style.height = `${Math.max(1, view.length) * ROW_H + 2}px`
    empty.hidden = view.length > 0 || txs.length === 0
    viewport.scrollTop = 0
    paint()
  }

  function sortView() {
    const keys = new Map<number, number | string | null>()
    for (const i of view) keys.set(i, sortCol.sort(txs[i]))
    view.sort((a, b) => {
      const ka = keys.get(a) ?? null
      const kb = keys.get(b) ?? null
      if (ka === kb) return a - b
      if (ka === null) return 1
      if (kb === null) return -1
      const c =
        typeof ka === 'number' && typeof kb === 'number'
          ? ka - kb
          : String(ka).localeCompare(String(kb))
      return c === 0 ? a - b : c * sortDir
    })
  }

  let painting = false
  function schedulePaint() {
    if (painting) return
    painting = true
    requestAnimationFrame(() => {
      painting = false
      paint()
    })
  }

  function paint() {
    const height = viewport.clientHeight || 480
    const first = Math.max(0, Math.floor(viewport.scrollTop / ROW_H) - OVERSCAN)
    const last = Math.min(view.length, Math.ceil((viewport.scrollTop + height) / ROW_H) + OVERSCAN)
    const n = Math.max(0, last - first)
    while (pool.length < n) pool.push(makeRow())
    for (let k = 0; k < pool.length; k++) {
      const row = pool[k]
      if (k >= n) {
        if (row.parentNode) row.remove()
        continue
      }
      const index = view[first + k]
      fillRow(row, index, first + k)
      if (!row.parentNode) rowsBox.appendChild(row)
    }
  }

  function makeRow(): HTMLElement {
    const row = h('div', { class: 'tx-row', role: 'row', 'data-testid': 'tx-row' })
    for (const c of COLUMNS) row.appendChild(h('span', { class: `td ${c.cls}`, role: 'cell' }))
    row.style.height = `${ROW_H}px`
    row.addEventListener('click', () => {
      const i = Number(row.dataset.index)
      selected = i
      for (const r of pool) r.classList.toggle('selected', Number(r.dataset.index) === i)
      onSelect(txs[i], i)
    })
    return row
  }

  function fillRow(row: HTMLElement, index: number, position: number) {
    const t = txs[index]
    row.dataset.index = String(index)
    row.style.transform = `translateY(${position * ROW_H}px)`
    row.classList.toggle('unanswered', !t.answered)
    row.classList.toggle('error', t.answered && str(t.rcode) !== 'NOERROR')
    row.classList.toggle('selected', index === selected)
    const cells = row.children
    for (let c = 0; c < COLUMNS.length; c++) {
      const v = COLUMNS[c].text(t)
      const cell = cells[c] as HTMLElement
      if (cell.textContent !== v) cell.textContent = v
      if (c === 4) cell.title = v
    }
  }

  let debounce = 0
  filterInput.addEventListener('input', () => {
    clearTimeout(debounce)
    debounce = window.setTimeout(() => {
      text = filterInput.value.trim().toLowerCase()
      refresh()
    }, 120)
  })
  statusSelect.addEventListener('change', () => {
    status = statusSelect.value
    refresh()
  })
  viewport.addEventListener('scroll', schedulePaint, { passive: true })
  new ResizeObserver(() => schedulePaint()).observe(viewport)

  const api: TransactionsTable = {
    el,
    focus(indexes, label) {
      focusSet = indexes ? new Set(indexes) : null
      focusNote.hidden = !indexes
      clearFocus.hidden = !indexes
      focusNote.textContent = indexes ? `Showing ${label ?? 'a selection'}` : ''
      refresh()
    },
  }
  refresh()
  return api
}
