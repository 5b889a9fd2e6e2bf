// renderReportChunks renders JSON a member and an array element at a time, so that a --detail
// report larger than V8's longest string can still be written out; joined, the pieces must be
// exactly what renderReport (JSON.stringify with two-space indent) makes.
import { describe, expect, it } from 'vitest'
import { analyzeBundleFull } from '../../core/analyze.js'
import type { Report } from '../../core/model/report.js'
import { renderReport, renderReportChunks } from '../../core/report/render.js'
import { tcpFrame, tcpQuery, writePcap } from '../importers/capture-synth.js'

function capture(queries: number): Uint8Array {
  const records = Array.from({ length: queries }, (_, i) => {
    const data = tcpFrame({
      src: `10.0.0.${1 + (i % 3)}`,
      dst: '10.0.0.53',
      sport: 40000 + i,
      dport: 53,
      seq: 1,
      flags: 0x18,
      payload: tcpQuery(i, i % 2 ? 'a.example.' : 'b.svc.cluster.local.'),
    })
    return { sec: 1 + i, frac: i, orig: data.length, data }
  })
  return writePcap(1, records)
}

describe('renderReportChunks', () => {
  it('joins to the JSON renderReport makes, with and without --detail', () => {
    for (const detail of [false, true]) {
      const { report } = analyzeBundleFull(
        { files: [{ path: 'a.pcap', bytes: capture(50) }], skipped: [] },
        { detail },
      )
      expect(report.transactions?.length ?? 0).toBe(detail ? 50 : 0)
      const chunks = [...renderReportChunks(report, 'json')]
      expect(chunks.length).toBeGreaterThan(detail ? 100 : 10)
      expect(chunks.join('')).toBe(renderReport(report, 'json'))
    }
  })

  it('leaves out what JSON.stringify leaves out, and writes empty arrays and objects alike', () => {
    const odd = {
      a: undefined,
      b: [],
      c: {},
      d: [1, undefined, [], { x: [] }, null, 'line\nbreak'],
      e: () => 1,
      f: 'last',
    } as unknown as Report
    expect([...renderReportChunks(odd, 'json')].join('')).toBe(renderReport(odd, 'json'))
    expect([...renderReportChunks({} as Report, 'json')].join('')).toBe(
      renderReport({} as Report, 'json'),
    )
  })

  it('renders the other formats in one piece', () => {
    const { report } = analyzeBundleFull({
      files: [{ path: 'a.pcap', bytes: capture(5) }],
      skipped: [],
    })
    for (const format of ['text', 'md', 'html'] as const)
      expect([...renderReportChunks(report, format)]).toEqual([renderReport(report, format)])
  })
})
