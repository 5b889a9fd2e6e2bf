// Every file of the shared corpus (captures, dnstap, logs, metrics, kernel traces, node facts,
// configuration, and the malformed ones) through the whole pipeline, one at a time and all
// together: nothing crashes, nothing hangs, and what is not read is listed with its reason.
import { describe, expect, it } from 'vitest'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { analyzeBundle } from '../../core/analyze.js'
import { CORPUS } from '../corpus.js'

function walk(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const full = join(dir, name)
      return statSync(full).isDirectory() ? walk(full) : [full]
    })
}

const files = walk(CORPUS).filter((f) => !f.endsWith('SOURCES.md'))
// Messages per file, one at a time: the whole bundle must count the same.
let messagesOneByOne = 0

describe('the whole corpus', () => {
  it('has the files SOURCES.md describes', () => {
    expect(files.length).toBeGreaterThan(250)
  })

  it.each(files.map((f) => [relative(CORPUS, f), f]))(
    '%s: analyzed, or skipped with a reason',
    (_name, file) => {
      const report = analyzeBundle({
        files: [{ path: 'x.bin', bytes: readFileSync(file) }],
        skipped: [],
      })
      const input = report.inputs[0]
      messagesOneByOne += report.summary.messages
      expect(report.schema).toBe('dnsbundle.report/v1')
      // An importer that threw would say "internal error": that is a bug, never an answer.
      expect(input.problems.filter((p) => /internal error/.test(p.message))).toEqual([])
      if (input.skipped) expect(input.skipped).toMatch(/\w{8,}/)
      else expect(input.kind).not.toBe('unknown')
    },
  )

  it('analyzes all of it as one bundle', () => {
    const report = analyzeBundle(
      {
        files: files.map((f) => ({ path: relative(CORPUS, f), bytes: readFileSync(f) })),
        skipped: [],
      },
      { detail: true },
    )
    expect(report.inputs).toHaveLength(files.length)
    expect(
      report.inputs.flatMap((i) => i.problems).filter((p) => /internal error/.test(p.message)),
    ).toEqual([])
    expect(report.summary.messages).toBe(messagesOneByOne)
    expect(JSON.parse(JSON.stringify(report)).schema).toBe('dnsbundle.report/v1')
  })
})
