// The page: choose or drop files, show progress, render the report. Shared links (/r/:id) load a
// stored report instead. All analysis goes through engine.ts.
import './style.css'
import type { Report } from '../../core/model/report.js'
import { h, replace } from './dom.js'
import {
  analyze,
  fetchSharedReport,
  shareReport,
  type EngineInput,
  type EngineProgress,
} from './engine.js'
import { bytes } from './format.js'
import { renderReport, SECTIONS } from './report-view.js'

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T
const dropZone = $<HTMLElement>('drop-zone')
const fileInput = $<HTMLInputElement>('file-input')
const status = $<HTMLElement>('status')
const root = $<HTMLElement>('report-root')
const nav = $<HTMLElement>('section-nav')
const shareButton = $<HTMLButtonElement>('share')

let current: Report | null = null
let generation = 0

const PHASES: Record<EngineProgress['phase'], string> = {
  read: 'Reading files',
  unzip: 'Opening the zip',
  import: 'Decoding',
  correlate: 'Pairing queries with responses',
  rules: 'Running the diagnosis rules',
  report: 'Building the report',
}

function showProgress(p: EngineProgress) {
  const frac = p.total > 0 ? Math.min(1, p.done / p.total) : null
  const bar = h('progress', { max: 1 })
  if (frac !== null && (p.phase === 'read' || p.phase === 'import')) bar.value = frac
  replace(
    status,
    h(
      'div',
      { class: 'progress', 'data-testid': 'progress', 'data-phase': p.phase },
      h('span', { class: 'progress-phase' }, PHASES[p.phase] ?? p.phase),
      p.path ? h('span', { class: 'mono muted progress-path' }, p.path) : null,
      bar,
      p.total > 0 && (p.phase === 'read' || p.phase === 'import')
        ? h('span', { class: 'muted small' }, `${bytes(p.done)} / ${bytes(p.total)}`)
        : null,
    ),
  )
}

function showError(message: string) {
  replace(status, h('div', { class: 'error-box', role: 'alert', 'data-testid': 'error' }, message))
}

function showReport(report: Report, source: string) {
  current = report
  replace(status)
  root.replaceChildren(renderReport(report, { source }))
  dropZone.classList.add('compact')
  replace(
    nav,
    SECTIONS.filter((s) => document.getElementById(s.id)).map((s) =>
      h(
        'a',
        { href: `#${s.id}` },
        document.getElementById(s.id)?.querySelector('h2')?.textContent ?? s.title,
      ),
    ),
  )
  nav.hidden = false
  shareButton.hidden = source !== 'analyzed in this tab'
  const exportButton = h(
    'button',
    { type: 'button', class: 'btn small', 'data-testid': 'export-json' },
    'Download JSON',
  )
  exportButton.addEventListener('click', () => downloadJson(report))
  root.querySelector('.report-meta')?.append(exportButton)
}

async function run(inputs: EngineInput[]) {
  if (!inputs.length) return
  const mine = ++generation
  showProgress({ phase: 'read', done: 0, total: inputs.reduce((n, i) => n + i.file.size, 0) })
  try {
    const report = await analyze(inputs, (p) => {
      if (mine === generation) showProgress(p)
    })
    if (mine !== generation) return
    if (location.pathname !== '/') history.pushState(null, '', '/')
    showReport(report, 'analyzed in this tab')
  } catch (e) {
    if (mine === generation) showError(`The analysis failed: ${(e as Error).message}`)
  }
}

function downloadJson(report: Report) {
  const blob = new Blob([JSON.stringify(report, null, 2)], { type: 'application/json' })
  const a = h('a', { href: URL.createObjectURL(blob), download: 'dnsbundle-report.json' })
  a.click()
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000)
}

// ---------------------------------------------------------------- file input and drop

fileInput.addEventListener('change', () => {
  const files = [...(fileInput.files ?? [])]
  fileInput.value = ''
  void run(files.map((f) => ({ path: f.webkitRelativePath || f.name, file: f })))
})

let dragDepth = 0
window.addEventListener('dragenter', (e) => {
  if (!e.dataTransfer?.types.includes('Files')) return
  dragDepth++
  document.body.classList.add('dragging')
})
window.addEventListener('dragleave', () => {
  dragDepth = Math.max(0, dragDepth - 1)
  if (!dragDepth) document.body.classList.remove('dragging')
})
window.addEventListener('dragover', (e) => e.preventDefault())
window.addEventListener('drop', (e) => {
  e.preventDefault()
  dragDepth = 0
  document.body.classList.remove('dragging')
  if (e.dataTransfer) void droppedInputs(e.dataTransfer).then(run)
})
dropZone.addEventListener('click', () => fileInput.click())
dropZone.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' || e.key === ' ') fileInput.click()
})

/** Files and whole folders from a drop; folder entries keep their path inside the folder. */
async function droppedInputs(dt: DataTransfer): Promise<EngineInput[]> {
  const entries = [...dt.items]
    .map((item) => (item.kind === 'file' ? item.webkitGetAsEntry?.() : null))
    .filter((e): e is FileSystemEntry => !!e)
  if (!entries.length) return [...dt.files].map((f) => ({ path: f.name, file: f }))
  const out: EngineInput[] = []
  for (const entry of entries) await walk(entry, out)
  return out
}

async function walk(entry: FileSystemEntry, out: EngineInput[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) =>
      (entry as FileSystemFileEntry).file(resolve, reject),
    )
    out.push({ path: entry.fullPath.replace(/^\//, ''), file })
    return
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader()
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) =>
      reader.readEntries(resolve, reject),
    )
    if (!batch.length) break
    for (const child of batch) await walk(child, out)
  }
}

// ---------------------------------------------------------------- share

shareButton.addEventListener('click', async () => {
  if (!current) return
  shareButton.disabled = true
  try {
    const r = await shareReport(current)
    const link = h('input', {
      class: 'share-url mono',
      readonly: true,
      value: r.url,
      'data-testid': 'share-url',
      'aria-label': 'Share link',
    })
    const copy = h('button', { type: 'button', class: 'btn small' }, 'Copy')
    copy.addEventListener('click', () => {
      link.select()
      void navigator.clipboard?.writeText(r.url)
    })
    replace(
      status,
      h(
        'div',
        { class: 'share-box' },
        h('span', null, 'Anyone with this link can see the report:'),
        link,
        copy,
        h(
          'span',
          { class: 'muted small' },
          `Expires ${r.expiresAt}. Delete token (keep it to delete the report): `,
        ),
        h('code', { class: 'small' }, r.deleteToken),
      ),
    )
  } catch (e) {
    showError((e as Error).message)
  } finally {
    shareButton.disabled = false
  }
})

// ---------------------------------------------------------------- shared report route

async function route() {
  const m = /^\/r\/([A-Za-z0-9_-]{1,128})\/?$/.exec(location.pathname)
  if (!m) return
  const mine = ++generation
  replace(
    status,
    h(
      'div',
      { class: 'progress', 'data-testid': 'progress' },
      h('span', null, 'Loading the shared report…'),
    ),
  )
  try {
    const report = await fetchSharedReport(m[1])
    if (mine === generation) showReport(report, 'shared report')
  } catch (e) {
    if (mine === generation) showError((e as Error).message)
  }
}
window.addEventListener('popstate', () => void route())
void route()
