// The CLI analyzes with `consumeInputs` and collects garbage right after import, so that a big
// capture's bytes are not held through correlation: nothing of analyzeBundleFull's may still
// reference them then. (Its frame runs once, in the interpreter, whose registers count as live:
// a variable left holding the bytes kept a 105 MB capture in memory to the end.)
import { describe, expect, it } from 'vitest'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { analyzeBundleFull } from '../../core/analyze.js'
import { tcpFrame, tcpQuery, writePcap } from '../importers/capture-synth.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

describe('analyzeBundleFull with consumeInputs', () => {
  it("lets the garbage collector have each file's bytes once it is imported", async () => {
    const records = Array.from({ length: 200 }, (_, i) => {
      const data = tcpFrame({
        src: '10.0.0.1',
        dst: '10.0.0.53',
        sport: 40000 + i,
        dport: 53,
        seq: 1,
        flags: 0x18,
        payload: tcpQuery(i, 'a.example.'),
      })
      return { sec: 1, frac: i, orig: data.length, data }
    })
    const file = { path: 'a.pcap', bytes: writePcap(1, records) }
    const bytes = new WeakRef(file.bytes.buffer)
    // A WeakRef holds its target until the end of the job that made it: analyze in the next.
    await new Promise((resolve) => setTimeout(resolve, 0))

    let importedBytesCollected: boolean | undefined
    const a = analyzeBundleFull(
      { files: [file], skipped: [] },
      {
        consumeInputs: true,
        onProgress: (p) => {
          if (p.phase !== 'correlate' || importedBytesCollected !== undefined) return
          gc()
          importedBytesCollected = bytes.deref() === undefined
        },
      },
    )
    expect(a.report.summary.clientQueries).toBe(200)
    expect(file.bytes.length).toBe(0)
    expect(importedBytesCollected).toBe(true)
  })
})
