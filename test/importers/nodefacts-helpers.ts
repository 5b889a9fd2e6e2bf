// Test helpers for the kernel-trace and node-fact importers: corpus paths, running an importer
// the way the pipeline does, and the "same result under a meaningless name" check.
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'vitest'
import type { Event } from '../../core/model/event.js'
import type { Importer, ImportResult } from '../../core/importers/importer.js'
import { detectImporter, SNIFF_BYTES } from '../../core/importers/index.js'
import { CORPUS, REPO_ROOT } from '../corpus.js'

export const repoRoot = REPO_ROOT

/** The shared corpus: `../shared/corpus` beside the repository, else /work/shared/corpus. */
export const corpusDir = CORPUS

export const fixturesDir = join(repoRoot, 'test/fixtures')

export function corpus(rel: string): Uint8Array {
  return new Uint8Array(readFileSync(join(corpusDir, rel)))
}

export function fixture(rel: string): Uint8Array {
  return new Uint8Array(readFileSync(join(fixturesDir, rel)))
}

export function text(s: string): Uint8Array {
  return new TextEncoder().encode(s)
}

export function bytesText(b: Uint8Array): string {
  return new TextDecoder().decode(b)
}

/** Every file under a corpus folder, relative to the corpus root. */
export function corpusFiles(folder: string): string[] {
  const out: string[] = []
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n)
      if (statSync(p).isDirectory()) walk(p)
      else out.push(p.slice(corpusDir.length + 1))
    }
  }
  walk(join(corpusDir, folder))
  return out
}

export function run(imp: Importer, bytes: Uint8Array, path = 'input.txt'): ImportResult {
  return imp.parse({ index: 3, path, bytes, vantage: 'v' }, { dnsPorts: new Set([53]) })
}

/**
 * Imports a file as the pipeline would: detection must pick `imp` by content alone, under its
 * own name and under a meaningless one, and both imports must give the same events and problems.
 */
export function importChecked(
  imp: Importer,
  bytes: Uint8Array,
  name = 'evidence.txt',
): ImportResult {
  expect(imp.binary).toBe(false)
  for (const n of [name, 'zz-0193', 'capture.pcap', 'Corefile']) {
    const found = detectImporter(bytes.subarray(0, SNIFF_BYTES), n)
    expect(found.importer?.id, `detected under the name ${n}`).toBe(imp.id)
  }
  const a = run(imp, bytes, name)
  const b = run(imp, bytes, 'zz-0193')
  expect(JSON.stringify(b)).toBe(JSON.stringify(a))
  for (const e of a.events) expect(e.input).toBe(3)
  return a
}

/** The event at a 1-based line, checking ref and byte offset point at that line. */
export function atLine<T extends Event>(events: Event[], bytes: Uint8Array, line: number): T {
  const e = events.find((x) => x.ref === line)
  expect(e, `an event at line ${line}`).toBeDefined()
  const lines = bytesText(bytes).split('\n')
  const offset = new TextEncoder().encode(
    lines
      .slice(0, line - 1)
      .map((l) => l + '\n')
      .join(''),
  ).length
  expect(e!.offset).toBe(offset)
  return e as T
}

/** Facts of one type. */
export function facts<T extends string>(events: Event[], type: T) {
  return events.flatMap((e) =>
    e.kind === 'fact' && e.fact.type === type ? [e.fact] : [],
  ) as Extract<Extract<Event, { kind: 'fact' }>['fact'], { type: T }>[]
}

/** Inserts text lines after a 1-based line. */
export function insertAfter(bytes: Uint8Array, line: number, inserted: string): Uint8Array {
  const lines = bytesText(bytes).split('\n')
  lines.splice(line, 0, ...inserted.split('\n'))
  return text(lines.join('\n'))
}

/** A hostile line: long, with control bytes and invalid UTF-8 around it. */
export const HOSTILE_LINE = '\u0007\u001b[31m' + 'A'.repeat(200_000) + '\uFFFD'
