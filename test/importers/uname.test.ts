import { describe, expect, it } from 'vitest'
import { uname } from '../../core/importers/uname.js'
import { facts, fixture, HOSTILE_LINE, importChecked, run, text } from './nodefacts-helpers.js'

describe('uname', () => {
  it('uname -r and uname -a from this machine', () => {
    const r = importChecked(uname, fixture('uname/debian-12_uname-r.txt'), 'uname.txt')
    expect(facts(r.events, 'kernel')).toEqual([{ type: 'kernel', release: '6.18.44-fc-v509' }])
    const a = importChecked(uname, fixture('uname/debian-12_uname-a.txt'), 'uname.txt')
    expect(facts(a.events, 'kernel')).toEqual([
      { type: 'kernel', release: '6.18.44-fc-v509', hostname: 'vm', machine: 'x86_64' },
    ])
  })

  it('distribution releases and the Ubuntu uname -a layout', () => {
    for (const rel of [
      '5.15.0-1034-azure',
      '4.19.91-26.al7.x86_64',
      '6.1.0-18-amd64',
      '3.10.0-1160.el7.x86_64',
    ])
      expect(facts(importChecked(uname, text(rel + '\n')).events, 'kernel')[0].release).toBe(rel)
    const a = importChecked(
      uname,
      text(
        'Linux ip-10-0-1-2 5.4.0-150-generic #167-Ubuntu SMP Mon May 15 17:35:05 UTC 2023 x86_64 x86_64 x86_64 GNU/Linux\n',
      ),
    )
    expect(facts(a.events, 'kernel')[0]).toEqual({
      type: 'kernel',
      release: '5.4.0-150-generic',
      hostname: 'ip-10-0-1-2',
      machine: 'x86_64',
    })
  })

  it('a bare number is not a release; garbage is a problem', () => {
    expect(uname.sniff(text('1234\n'), 'x')).toBe(false)
    expect(uname.sniff(text('ipvs\n'), 'x')).toBe(false)
    const r = run(uname, text(`6.1.0-18-amd64\n${HOSTILE_LINE}\n`))
    expect(facts(r.events, 'kernel')).toHaveLength(1)
    expect(r.problems.map((p) => p.where)).toEqual(['line 2'])
  })
})
