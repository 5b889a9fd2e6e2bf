import { describe, expect, it } from 'vitest'
import type { HostLookupEvent } from '../../core/model/event.js'
import { gethostlatency } from '../../core/importers/gethostlatency.js'
import {
  atLine,
  corpus,
  HOSTILE_LINE,
  importChecked,
  insertAfter,
  run,
} from './nodefacts-helpers.js'

const lookups = (r: { events: unknown[] }) => r.events as HostLookupEvent[]

describe('gethostlatency', () => {
  it('BCC: float LATms, the lookups of the example and none of its usage text', () => {
    const bytes = corpus('bpf/bcc/gethostlatency_example.txt')
    const r = importChecked(gethostlatency, bytes, 'gethostlatency_example.txt')
    expect(r.problems).toEqual([])
    expect(lookups(r)).toHaveLength(8)
    expect(atLine<HostLookupEvent>(r.events, bytes, 10)).toMatchObject({
      kind: 'host-lookup',
      pid: 28011,
      comm: 'wget',
      host: 'www.iovisor.org',
      latencyUs: 90_000,
      clock: '06:10:24',
    })
    expect(lookups(r)[6]).toMatchObject({ host: 'foo', latencyUs: 72_000, comm: 'curl' })
    expect(lookups(r).every((e) => Number.isNaN(e.time))).toBe(true)
  })

  it('bpftrace: integer LATms after the Attached banner', () => {
    const bytes = corpus('bpf/bpftrace/gethostlatency_example.txt')
    const r = importChecked(gethostlatency, bytes, 'gethostlatency_example.txt')
    expect(r.problems).toEqual([])
    expect(lookups(r).map((e) => [e.host, e.latencyUs])).toEqual([
      ['www.netflix.com', 81_000],
      ['www.netflix.com', 17_000],
      ['www.facebook.com', 9_000],
      ['www.facebook.com', 3_000],
    ])
    expect(atLine<HostLookupEvent>(r.events, bytes, 12)).toMatchObject({
      pid: 19105,
      clock: '02:52:05',
    })
  })

  it('a task name with spaces stays one COMM', () => {
    const bytes = insertAfter(
      corpus('bpf/bpftrace/gethostlatency_example.txt'),
      12,
      '02:52:06  19106  Web Content            5 example.org',
    )
    const r = run(gethostlatency, bytes)
    expect(r.problems).toEqual([])
    expect(lookups(r)[1]).toMatchObject({
      comm: 'Web Content',
      host: 'example.org',
      latencyUs: 5000,
    })
  })

  it('garbage and hostile rows are problems; the good rows stay', () => {
    const bytes = insertAfter(
      insertAfter(
        corpus('bpf/bcc/gethostlatency_example.txt'),
        11,
        '06:10:3x  1  wget  1.00 a.example',
      ),
      13,
      HOSTILE_LINE,
    )
    const r = run(gethostlatency, bytes)
    expect(lookups(r)).toHaveLength(8)
    expect(r.problems.map((p) => [p.where, p.message.slice(0, 12)])).toEqual([
      ['line 12', 'bad TIME in '],
      ['line 14', 'expected 5 c'],
    ])
  })

  it('a truncated last row is a problem', () => {
    const r = run(
      gethostlatency,
      corpus('bpf/bpftrace/gethostlatency_example.txt').subarray(0, 560),
    )
    expect(lookups(r)).toHaveLength(2)
    expect(r.problems).toHaveLength(1)
  })
})
