// Renders a Report: verdict first (one sentence, its evidence, the mitigation), then findings by
// severity, the summary with charts, the worst lookups as timelines, the transactions table and
// what was in the bundle. The same renderer serves local analyses and shared links (/r/:id), so
// it treats the report as untrusted: every value is coerced and inserted as text.
import type {
  EvidenceItem,
  Hop,
  Report,
  ReportFinding,
  ReportInput,
  ReportLookup,
  ReportTransaction,
  ServerStats,
  Verdict,
} from '../../core/model/report.js'
import { barChart, latencyBucket, latencyHistogram } from './charts.js'
import { h, replace, safeLink, type Child } from './dom.js'
import { arr, bytes, confidence, ms, num, pct, str, timeUs } from './format.js'
import { timeline } from './timeline.js'
import { transactionsTable, statusOf, type TransactionsTable } from './transactions-table.js'

const SEVERITIES = ['critical', 'warning', 'info'] as const

export interface Section {
  id: string
  title: string
}

export const SECTIONS: Section[] = [
  { id: 'sec-verdict', title: 'Verdict' },
  { id: 'sec-findings', title: 'Findings' },
  { id: 'sec-summary', title: 'Summary' },
  { id: 'sec-lookups', title: 'Worst lookups' },
  { id: 'sec-transactions', title: 'Transactions' },
  { id: 'sec-inputs', title: 'Inputs' },
]

/**
 * Builds the whole report view.
 * @example
 *   root.replaceChildren(renderReport(report, { source: 'local' }))
 */
export function renderReport(report: Report, opts: { source: string }): HTMLElement {
  const txs = arr<ReportTransaction>(report.transactions).filter((t) => t && typeof t === 'object')
  const findings = arr<ReportFinding>(report.findings).filter((f) => f && typeof f === 'object')
  const detail = h('div', { class: 'tx-detail', 'data-testid': 'tx-detail' })
  let table: TransactionsTable | null = null
  const focus = (indexes: number[], label: string) => {
    if (!table) return
    table.focus(indexes, label)
    document.getElementById('sec-transactions')?.scrollIntoView({ block: 'start' })
  }
  if (txs.length) table = transactionsTable(txs, (t, i) => replace(detail, transactionDetail(t, i)))

  return h(
    'div',
    { class: 'report', 'data-testid': 'report' },
    header(report, opts.source),
    verdictSection(report, findings),
    findingsSection(report, findings),
    summarySection(report, txs, focus),
    lookupsSection(report, txs),
    section(
      'sec-transactions',
      'Transactions',
      'transactions-section',
      table
        ? [table.el, detail]
        : h(
            'p',
            { class: 'muted', 'data-testid': 'transactions' },
            'No transactions: no DNS queries from clients were found in these inputs.',
          ),
    ),
    inputsSection(report),
  )
}

function section(id: string, title: string, testid: string | null, ...body: Child[]): HTMLElement {
  return h('section', { id, class: 'card', 'data-testid': testid }, h('h2', null, title), ...body)
}

function header(report: Report, source: string): HTMLElement {
  const inputs = arr<ReportInput>(report.inputs)
  const win = report.window
  const parts: Child[] = [
    h('span', null, `${inputs.length} input${inputs.length === 1 ? '' : 's'}`),
    h('span', null, `${num(report.summary?.messages)} DNS messages`),
  ]
  if (win && typeof win.start === 'number')
    parts.push(h('span', null, `${timeUs(win.start)} → ${timeUs(win.end)} UTC`))
  parts.push(
    h(
      'span',
      null,
      `${str(report.generator?.name) || 'dnsbundle'} ${str(report.generator?.version)}`,
    ),
  )
  parts.push(h('span', null, source))
  return h('div', { class: 'report-meta' }, parts)
}

// ---------------------------------------------------------------- verdict

function verdictSection(report: Report, findings: ReportFinding[]): HTMLElement {
  const v = report.verdict as Verdict | null
  const box = h('section', { id: 'sec-verdict', class: 'card verdict', 'data-testid': 'verdict' })
  if (!v || typeof v !== 'object') {
    const worst = findings.find((f) => f.severity === 'critical' || f.severity === 'warning')
    const sum = report.summary ?? ({} as Report['summary'])
    box.classList.add('verdict-none')
    box.append(
      h('div', { class: 'verdict-kicker' }, 'Verdict'),
      h(
        'p',
        { class: 'verdict-sentence' },
        worst
          ? `No single root cause stands out; the most serious finding is “${str(worst.title)}”.`
          : 'No root cause identified: no rule found a problem in this evidence.',
      ),
      h(
        'p',
        { class: 'muted' },
        `${num(sum.transactions)} transactions, ${num(sum.unanswered)} unanswered` +
          `${typeof sum.transactions === 'number' && sum.transactions ? ` (${pct(sum.unanswered, sum.transactions)})` : ''}, ` +
          `${num(sum.retransmits)} retransmits, latency p50 ${ms(sum.latencyMs?.p50)} / p99 ${ms(sum.latencyMs?.p99)}.`,
      ),
    )
    return box
  }
  const f = findings.find((x) => x.id === v.findingId)
  box.classList.add(`sev-${f ? str(f.severity) : 'critical'}`)
  box.append(
    h(
      'div',
      { class: 'verdict-kicker' },
      'Most likely root cause',
      h('span', { class: 'conf' }, `confidence ${confidence(v.confidence)}`),
    ),
    h('p', { class: 'verdict-sentence' }, sentence(str(v.title), f)),
  )
  if (f) {
    const ev = arr<EvidenceItem>(f.evidence)
    if (ev.length) box.append(h('h3', null, 'Evidence'), evidenceList(ev, 5))
    if (str(f.mitigation)) box.append(h('h3', null, 'Mitigation'), mitigation(str(f.mitigation)))
  }
  const alts = arr<Verdict>(report.alternatives).filter((a) => a && typeof a === 'object')
  if (alts.length)
    box.append(
      h('h3', null, 'Other possible causes'),
      h(
        'ol',
        { class: 'alternatives' },
        alts.map((a) =>
          h(
            'li',
            null,
            str(a.title),
            h(
              'span',
              { class: 'muted' },
              ` (${str(a.findingId)}, confidence ${confidence(a.confidence)})`,
            ),
          ),
        ),
      ),
    )
  if (report.pattern && typeof report.pattern === 'object')
    box.append(h('h3', null, 'Failure pattern'), patternView(report.pattern))
  return box
}

interface ProcedureRow {
  answer?: unknown
  possibleCauses?: unknown
  next?: unknown
}

/** The talk's procedure: how often and how widely, with its possible causes and next steps. */
function patternView(p: Record<string, unknown>): HTMLElement {
  const share = typeof p.failureShare === 'number' ? ` (${(p.failureShare * 100).toFixed(1)}%)` : ''
  const failed = h(
    'p',
    null,
    `${str(p.failures)} of ${str(p.transactions)} queries failed${share}, ${str(p.frequency)}, ` +
      `in ${str(p.failingSeconds)} of ${str(p.seconds)} seconds; scope: ${str(p.scope)}.`,
  )
  const rows = (['frequencyRow', 'scopeRow'] as const)
    .map((k) => p[k] as ProcedureRow | undefined)
    .filter((r): r is ProcedureRow => !!r && typeof r === 'object')
  const list = (v: unknown) => (Array.isArray(v) ? v.map(str).join('; ') : str(v))
  return h(
    'div',
    { class: 'pattern' },
    failed,
    h(
      'dl',
      { class: 'kv' },
      rows.flatMap((r) => [
        h('dt', null, str(r.answer)),
        h('dd', null, `possible causes: ${list(r.possibleCauses)} — next: ${list(r.next)}`),
      ]),
    ),
  )
}

function sentence(title: string, f: ReportFinding | undefined): string {
  const summary = f ? str(f.summary) : ''
  if (summary) return summary
  return title.endsWith('.') ? title : title + '.'
}

function mitigation(text: string): HTMLElement {
  // Mitigations carry exact commands or config; keep their line breaks and make them copyable.
  return h('pre', { class: 'mitigation' }, text)
}

function evidenceList(items: EvidenceItem[], visible: number): HTMLElement {
  const row = (e: EvidenceItem) =>
    h(
      'tr',
      null,
      h('td', { class: 'ev-input' }, str(e?.input)),
      h('td', { class: 'ev-where mono' }, str(e?.where)),
      h('td', { class: 'ev-text mono' }, str(e?.text)),
    )
  const table = h(
    'table',
    { class: 'grid-table evidence' },
    h(
      'thead',
      null,
      h('tr', null, h('th', null, 'Input'), h('th', null, 'Where'), h('th', null, 'What is there')),
    ),
    h('tbody', null, items.slice(0, visible).map(row)),
  )
  if (items.length <= visible) return table
  const rest = h('tbody', { hidden: true }, items.slice(visible).map(row))
  table.append(rest)
  const more = h(
    'button',
    { type: 'button', class: 'btn small' },
    `Show ${items.length - visible} more`,
  )
  more.addEventListener('click', () => {
    rest.hidden = false
    more.remove()
  })
  return h('div', null, table, more)
}

// ---------------------------------------------------------------- findings

function findingsSection(report: Report, findings: ReportFinding[]): HTMLElement {
  const box = section('sec-findings', 'Findings', 'findings')
  const verdictId = report.verdict?.findingId
  if (!findings.length) {
    box.append(
      h(
        'p',
        { class: 'muted' },
        'No findings: none of the diagnosis rules fired on this evidence.',
      ),
    )
    return box
  }
  const counts = h('div', { class: 'sev-counts' })
  for (const sev of SEVERITIES) {
    const n = findings.filter((f) => f.severity === sev).length
    counts.append(h('span', { class: `badge sev-${sev}` }, `${n} ${sev}`))
  }
  box.append(counts)
  const order = (f: ReportFinding) => {
    const i = SEVERITIES.indexOf(f.severity)
    return i < 0 ? SEVERITIES.length : i
  }
  const sorted = [...findings].sort(
    (a, b) => order(a) - order(b) || (Number(b.confidence) || 0) - (Number(a.confidence) || 0),
  )
  for (const f of sorted) box.append(findingCard(f, f.id === verdictId))
  return box
}

function findingCard(f: ReportFinding, isVerdict: boolean): HTMLElement {
  const sev = SEVERITIES.includes(f.severity) ? f.severity : 'info'
  const ev = arr<EvidenceItem>(f.evidence)
  const d = h(
    'details',
    { class: `finding sev-${sev}`, open: sev !== 'info', 'data-finding': str(f.id) },
    h(
      'summary',
      null,
      h('span', { class: `badge sev-${sev}` }, sev),
      h('span', { class: 'finding-title' }, str(f.title)),
      isVerdict ? h('span', { class: 'badge verdict-badge' }, 'verdict') : null,
      h('span', { class: 'spacer' }),
      h('span', { class: 'muted mono small' }, str(f.id)),
      h('span', { class: 'muted small' }, confidence(f.confidence)),
    ),
  )
  const body = h('div', { class: 'details-body' })
  if (str(f.summary)) body.append(h('p', null, str(f.summary)))
  if (ev.length) body.append(evidenceList(ev, 5))
  if (str(f.mitigation)) body.append(h('h4', null, 'Mitigation'), mitigation(str(f.mitigation)))
  const refs = arr(f.references).map(str).filter(Boolean)
  if (refs.length)
    body.append(
      h('h4', null, 'References'),
      h(
        'ul',
        { class: 'refs' },
        refs.map((r) => h('li', null, safeLink(r))),
      ),
    )
  if (f.data && typeof f.data === 'object' && Object.keys(f.data).length)
    body.append(
      h(
        'details',
        { class: 'data' },
        h('summary', null, 'Data'),
        h('pre', null, JSON.stringify(f.data, null, 2)),
      ),
    )
  d.append(body)
  return d
}

// ---------------------------------------------------------------- summary

const COUNTERS: [keyof Report['summary'], string][] = [
  ['messages', 'DNS messages'],
  ['clientQueries', 'Client queries'],
  ['transactions', 'Transactions'],
  ['retransmits', 'Retransmits'],
  ['responses', 'Responses'],
  ['unanswered', 'Unanswered'],
  ['lookups', 'Lookups'],
  ['failedLookups', 'Failed lookups'],
  ['searchExpansionQueries', 'Search-expansion queries'],
  ['aaaaQueries', 'AAAA queries'],
  ['aaaaNoData', 'AAAA NODATA'],
  ['forwarderQueries', 'Forwarder queries'],
  ['forwarderUnanswered', 'Forwarder unanswered'],
]

function summarySection(
  report: Report,
  txs: ReportTransaction[],
  focus: (indexes: number[], label: string) => void,
): HTMLElement {
  const sum = (report.summary ?? {}) as Report['summary']
  const box = section('sec-summary', 'Summary', 'summary')
  const grid = h('div', { class: 'counters' })
  const bad = (k: string, v: number) =>
    v > 0 && ['unanswered', 'failedLookups', 'forwarderUnanswered'].includes(k)
  for (const [k, label] of COUNTERS) {
    const v = sum[k] as unknown
    const sub =
      k === 'unanswered' && typeof v === 'number'
        ? pct(v, Number(sum.transactions))
        : k === 'failedLookups' && typeof v === 'number'
          ? pct(v, Number(sum.lookups))
          : k === 'retransmits' && typeof v === 'number'
            ? pct(v, Number(sum.clientQueries))
            : ''
    grid.append(
      h(
        'div',
        { class: `counter${typeof v === 'number' && bad(k, v) ? ' bad' : ''}`, 'data-counter': k },
        h('div', { class: 'counter-value' }, num(v)),
        h(
          'div',
          { class: 'counter-label' },
          label,
          sub && sub !== '—' ? h('span', { class: 'muted' }, ` · ${sub}`) : null,
        ),
      ),
    )
  }
  const lat = sum.latencyMs ?? ({} as Report['summary']['latencyMs'])
  for (const k of ['p50', 'p90', 'p99', 'max'] as const)
    grid.append(
      h(
        'div',
        { class: 'counter', 'data-counter': `latency-${k}` },
        h('div', { class: 'counter-value' }, ms(lat[k])),
        h('div', { class: 'counter-label' }, `Latency ${k}`),
      ),
    )
  box.append(grid)
  const servers = arr<ServerStats>(sum.servers).filter((x) => x && typeof x === 'object')
  if (servers.length) box.append(serversTable(servers))

  const latencies: number[] = []
  const latencyIndex: number[] = []
  let unanswered = 0
  txs.forEach((t, i) => {
    if (!t.answered) unanswered++
    else if (typeof t.latencyMs === 'number' && Number.isFinite(t.latencyMs)) {
      latencies.push(t.latencyMs)
      latencyIndex.push(i)
    }
  })
  const byStatus = (label: string) =>
    focus(
      txs.flatMap((t, i) => (statusOf(t) === label ? [i] : [])),
      `rcode ${label}`,
    )
  const byType = (label: string) =>
    focus(
      txs.flatMap((t, i) => (str(t.qtype) === label ? [i] : [])),
      `type ${label}`,
    )
  const charts = h('div', { class: 'charts' })
  if (txs.length)
    charts.append(
      latencyHistogram(latencies, unanswered, (bucket, label) => {
        if (bucket === 'unanswered') return byStatus('unanswered')
        focus(
          latencyIndex.filter((_, k) => latencyBucket(latencies[k]) === bucket),
          `latency ${label}`,
        )
      }),
    )
  charts.append(
    barChart('Response codes', sum.rcodes ?? {}, txs.length ? byStatus : undefined),
    barChart('Query types', sum.qtypes ?? {}, txs.length ? byType : undefined),
  )
  box.append(charts)
  return box
}

/** The DNS servers side by side (CoreDNS replicas, a pod's nameservers), failing most first. */
function serversTable(servers: ServerStats[]): HTMLElement {
  const rows = [...servers].sort(
    (a, b) =>
      Number(b.failureRate) - Number(a.failureRate) ||
      Number(b.transactions) - Number(a.transactions),
  )
  return h(
    'table',
    { class: 'grid-table servers', 'data-testid': 'servers' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        ...['DNS server', 'address', 'queries', 'failed', 'unanswered', 'SERVFAIL', 'median'].map(
          (c) => h('th', null, c),
        ),
      ),
    ),
    h(
      'tbody',
      null,
      ...rows.map((x) =>
        h(
          'tr',
          { class: Number(x.failed) > 0 ? 'bad' : '' },
          h('td', null, str(x.server)),
          h('td', null, x.address === null ? '—' : str(x.address)),
          h('td', null, num(x.transactions)),
          h('td', null, `${num(x.failed)} · ${pct(Number(x.failed), Number(x.transactions))}`),
          h('td', null, num(x.unanswered)),
          h('td', null, num(x.servfail)),
          h('td', null, ms(x.medianMs)),
        ),
      ),
    ),
  )
}

// ---------------------------------------------------------------- worst lookups

type TimelineLookup = ReportLookup & { timeline: Hop[] }

function lookupsSection(report: Report, txs: ReportTransaction[]): HTMLElement {
  const box = section('sec-lookups', 'Worst lookups', 'lookups')
  let worst = arr<TimelineLookup>(report.worstLookups).filter((l) => l && typeof l === 'object')
  if (!worst.length) worst = worstFromLookups(arr<ReportLookup>(report.lookups), txs)
  if (worst.length) {
    box.append(
      h(
        'p',
        { class: 'muted small' },
        'Each lookup is an application resolver call: its search-list candidates and retries, with every hop per vantage point.',
      ),
    )
    for (const l of worst.slice(0, 10)) box.append(lookupCard(l))
    return box
  }
  const worstTx = worstTransactions(txs)
  if (!worstTx.length) {
    box.append(h('p', { class: 'muted' }, 'No lookups to show.'))
    return box
  }
  box.querySelector('h2')!.textContent = 'Worst transactions'
  box.append(
    h(
      'p',
      { class: 'muted small' },
      'No application lookups were reconstructed; these are the slowest and unanswered transactions.',
    ),
  )
  for (const t of worstTx.slice(0, 8)) box.append(transactionCard(t))
  return box
}

function worstFromLookups(lookups: ReportLookup[], txs: ReportTransaction[]): TimelineLookup[] {
  const score = (l: ReportLookup) =>
    (l.outcome === 'address' ? 0 : 1e9) + (Number(l.durationMs) || 0)
  return lookups
    .filter((l) => l && typeof l === 'object' && (l.outcome !== 'address' || Number(l.wasted) > 0))
    .sort((a, b) => score(b) - score(a))
    .slice(0, 10)
    .map((l) => ({
      ...l,
      timeline: arr<number>(l.transactions).flatMap((i) => arr<Hop>(txs[i]?.hops)),
    }))
}

function worstTransactions(txs: ReportTransaction[]): ReportTransaction[] {
  const score = (t: ReportTransaction) =>
    t.answered ? Number(t.latencyMs) || 0 : 1e9 + (Number(t.copies) || 0)
  return txs
    .filter((t) => !t.answered || Number(t.latencyMs) > 0)
    .sort((a, b) => score(b) - score(a))
    .slice(0, 8)
}

function outcomeBadge(outcome: string): HTMLElement {
  const cls =
    outcome === 'address' ? 'ok' : outcome === 'nxdomain' || outcome === 'nodata' ? 'warn' : 'bad'
  return h('span', { class: `badge outcome-${cls}` }, outcome || 'unknown')
}

function lookupCard(l: TimelineLookup): HTMLElement {
  return h(
    'details',
    { class: 'lookup', open: true },
    h(
      'summary',
      null,
      outcomeBadge(str(l.outcome)),
      h('span', { class: 'mono strong' }, str(l.name)),
      h('span', { class: 'muted' }, `from ${str(l.client)}`),
      h('span', { class: 'spacer' }),
      h(
        'span',
        { class: 'small' },
        `${num(l.queries)} queries · ${num(l.wasted)} wasted · ${ms(l.durationMs)}`,
      ),
    ),
    h('div', { class: 'details-body' }, timeline(arr<Hop>(l.timeline))),
  )
}

function transactionCard(t: ReportTransaction): HTMLElement {
  return h(
    'details',
    { class: 'lookup' },
    h(
      'summary',
      null,
      outcomeBadge(
        t.answered
          ? str(t.rcode) === 'NOERROR'
            ? 'address'
            : str(t.rcode).toLowerCase()
          : 'timeout',
      ),
      h('span', { class: 'mono strong' }, `${str(t.qname)} ${str(t.qtype)}`),
      h('span', { class: 'muted' }, `${str(t.client)} → ${str(t.server)}`),
      h('span', { class: 'spacer' }),
      h(
        'span',
        { class: 'small' },
        `${num(t.copies)} ${t.copies === 1 ? 'copy' : 'copies'} · ${t.answered ? ms(t.latencyMs) : 'no answer'} · last seen ${str(t.lastSeen)}`,
      ),
    ),
    h('div', { class: 'details-body' }, timeline(arr<Hop>(t.hops))),
  )
}

function transactionDetail(t: ReportTransaction, index: number): HTMLElement {
  const drop = t.drop && typeof t.drop === 'object' ? t.drop : null
  return h(
    'div',
    { class: 'detail' },
    h(
      'h3',
      null,
      `Transaction #${index + 1}: `,
      h('span', { class: 'mono' }, `${str(t.qname)} ${str(t.qtype)}`),
    ),
    h(
      'dl',
      { class: 'kv' },
      h('dt', null, 'Client'),
      h('dd', { class: 'mono' }, str(t.client)),
      h('dt', null, 'Server'),
      h('dd', { class: 'mono' }, `${str(t.server)} (${str(t.transport) || '?'})`),
      h('dt', null, 'DNS id'),
      h('dd', { class: 'mono' }, str(t.id)),
      h('dt', null, 'First sent'),
      h('dd', { class: 'mono' }, `${timeUs(t.firstSent)} UTC`),
      h('dt', null, 'Outcome'),
      h('dd', null, t.answered ? `${str(t.rcode)} after ${ms(t.latencyMs)}` : 'no response'),
      h('dt', null, 'Copies'),
      h('dd', null, num(t.copies)),
      h('dt', null, 'Last seen'),
      h('dd', null, str(t.lastSeen)),
      drop
        ? [
            h('dt', null, 'Kernel drop'),
            h(
              'dd',
              { class: 'mono' },
              `${str(drop.func)} ${str(drop.reason)} (${str(drop.input)} ${str(drop.where)})`,
            ),
          ]
        : null,
    ),
    timeline(arr<Hop>(t.hops)),
  )
}

// ---------------------------------------------------------------- inputs

function inputsSection(report: Report): HTMLElement {
  const inputs = arr<ReportInput>(report.inputs).filter((i) => i && typeof i === 'object')
  const box = section('sec-inputs', 'Inputs', 'inputs')
  const read = inputs.filter((i) => !i.skipped)
  const skipped = inputs.filter((i) => i.skipped)
  box.append(
    h(
      'p',
      { class: 'muted small' },
      `${read.length} read, ${skipped.length} skipped, ${inputs.reduce((n, i) => n + arr(i.problems).length, 0)} problems.`,
    ),
  )
  if (read.length)
    box.append(
      h(
        'table',
        { class: 'grid-table inputs' },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            ['Input', 'Kind', 'Vantage', 'Events', 'Size', 'Problems'].map((t) => h('th', null, t)),
          ),
        ),
        h(
          'tbody',
          null,
          read.map((i) => {
            const problems = arr<{ where: string; message: string }>(i.problems)
            return h(
              'tr',
              { 'data-input': str(i.path) },
              h('td', { class: 'mono' }, str(i.path)),
              h('td', null, h('span', { class: 'badge kind' }, str(i.kind))),
              h('td', null, str(i.vantage)),
              h('td', { class: 'num' }, num(i.events)),
              h('td', { class: 'num' }, bytes(i.bytes)),
              h(
                'td',
                null,
                problems.length
                  ? h(
                      'ul',
                      { class: 'problems' },
                      problems.map((p) =>
                        h(
                          'li',
                          null,
                          h('span', { class: 'mono muted' }, str(p?.where)),
                          ' ',
                          str(p?.message),
                        ),
                      ),
                    )
                  : h('span', { class: 'muted' }, 'none'),
              ),
            )
          }),
        ),
      ),
    )
  if (skipped.length)
    box.append(
      h('h3', null, 'Skipped'),
      h(
        'table',
        { class: 'grid-table skipped', 'data-testid': 'skipped' },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            h('th', null, 'Input'),
            h('th', null, 'Size'),
            h('th', null, 'Why it was skipped'),
          ),
        ),
        h(
          'tbody',
          null,
          skipped.map((i) =>
            h(
              'tr',
              { 'data-testid': 'skipped-input', 'data-input': str(i.path) },
              h('td', { class: 'mono' }, str(i.path)),
              h('td', { class: 'num' }, bytes(i.bytes)),
              h('td', { class: 'reason' }, str(i.skipped)),
            ),
          ),
        ),
      ),
    )
  const vantages = arr<{
    id: string
    type: string
    name: string
    node?: string
    addresses: string[]
  }>(report.vantages)
  if (vantages.length)
    box.append(
      h('h3', null, 'Vantage points'),
      h(
        'table',
        { class: 'grid-table vantages' },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            ['Id', 'Type', 'Name', 'Node', 'Addresses'].map((t) => h('th', null, t)),
          ),
        ),
        h(
          'tbody',
          null,
          vantages.map((v) =>
            h(
              'tr',
              null,
              h('td', { class: 'mono' }, str(v?.id)),
              h('td', null, str(v?.type)),
              h('td', null, str(v?.name)),
              h('td', null, str(v?.node)),
              h('td', { class: 'mono' }, arr(v?.addresses).map(str).join(', ')),
            ),
          ),
        ),
      ),
    )
  return box
}
