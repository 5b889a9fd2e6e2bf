import { describe, expect, it } from 'vitest'
import { zipSync, gzipSync, strToU8 } from 'fflate'
import {
  DEFAULT_ZIP_LIMITS,
  openZip,
  type InflateRaw,
  type ZipLimits,
} from '../../core/bundle/zip.js'
import { nodeInflateRaw } from '../../collector/inflate.js'
import { gunzipBounded } from '../../core/bundle/decode.js'
import { mergeBundles, prefixBundle } from '../../core/bundle/merge.js'

describe('openZip', () => {
  it('reads entries and splits out manifest.json', () => {
    const manifest = {
      schema: 'dnsbundle.manifest/v1',
      files: [{ path: 'a.log', kind: 'coredns-log' }],
    }
    const zip = zipSync({
      'manifest.json': strToU8(JSON.stringify(manifest)),
      'a.log': strToU8('x\n'),
    })
    const b = openZip(zip)
    expect(b.files.map((f) => f.path)).toEqual(['a.log'])
    expect(b.manifest?.files[0].kind).toBe('coredns-log')
    expect(b.skipped).toEqual([])
  })

  it('contains a zip bomb: stops inflating at the ratio budget', () => {
    const zeros = new Uint8Array(50 * 1024 * 1024)
    const zip = zipSync({ 'bomb.bin': zeros }, { level: 9 })
    const b = openZip(zip, {
      maxEntries: 10,
      maxEntryBytes: 1e12,
      maxTotalBytes: 1e12,
      maxRatio: 100,
    })
    expect(b.files).toEqual([])
    expect(b.skipped[0].reason).toMatch(/zip bomb/)
  })

  it('keeps hostile entry names as display strings only', () => {
    const zip = zipSync({ '../../etc/passwd\u0007': strToU8('root') })
    const b = openZip(zip)
    expect(b.files[0].path).toBe('../../etc/passwd?')
  })

  it('reports a truncated zip and keeps the entries before the cut', () => {
    const zip = zipSync(
      { 'a.txt': strToU8('hello'), 'b.txt': new Uint8Array(100_000).fill(7) },
      { level: 0 },
    )
    const b = openZip(zip.subarray(0, 200))
    expect(b.files.map((f) => f.path)).toEqual(['a.txt'])
  })
})

// The CLI inflates with node:zlib (collector/inflate.ts), the browser and the Worker with fflate:
// the same entries, the same limits, the same reasons.
describe('openZip with either inflater', () => {
  const inflaters = [
    ['fflate', undefined],
    ['node:zlib', nodeInflateRaw],
  ] as const
  const limits = (o: Partial<ZipLimits>): ZipLimits => ({ ...DEFAULT_ZIP_LIMITS, ...o })
  const zeros = (n: number) => new Uint8Array(n)

  for (const [name, inflate] of inflaters) {
    it(`${name}: the entries of a zip with stored and deflated entries`, () => {
      const text = strToU8('x'.repeat(10_000) + 'tail\n')
      const zip = zipSync({
        'a.log': [text, { level: 9 }],
        'b.bin': [new Uint8Array(3000).map((_, i) => (i * 7) & 255), { level: 0 }],
        'empty.txt': [new Uint8Array(0), { level: 6 }],
      })
      const b = openZip(zip, DEFAULT_ZIP_LIMITS, inflate)
      expect(b.skipped).toEqual([])
      expect(b.files.map((f) => [f.path, f.bytes.length])).toEqual([
        ['a.log', 10_005],
        ['b.bin', 3000],
        ['empty.txt', 0],
      ])
      expect([...b.files[0].bytes]).toEqual([...text])
    })

    it(`${name}: an entry over the entry limit is skipped, the next entries are read`, () => {
      const zip = zipSync({ 'big.bin': zeros(200_000), 'small.txt': strToU8('ok') }, { level: 9 })
      const b = openZip(zip, limits({ maxEntryBytes: 100_000, maxRatio: 1e9 }), inflate)
      expect(b.skipped).toEqual([
        { path: 'big.bin', reason: 'inflates past the 100000-byte entry limit' },
      ])
      expect(b.files.map((f) => f.path)).toEqual(['small.txt'])
    })

    it(`${name}: an entry of exactly the entry limit is read`, () => {
      const zip = zipSync({ 'exact.bin': zeros(100_000) }, { level: 9 })
      const b = openZip(zip, limits({ maxEntryBytes: 100_000, maxRatio: 1e9 }), inflate)
      expect(b.skipped).toEqual([])
      expect(b.files[0].bytes.length).toBe(100_000)
    })

    it(`${name}: a zip bomb stops at the ratio budget, and nothing after it is read`, () => {
      const zip = zipSync(
        { 'bomb.bin': zeros(20_000_000), 'after.txt': strToU8('x') },
        { level: 9 },
      )
      const b = openZip(zip, limits({ maxRatio: 100, maxEntryBytes: 1e12 }), inflate)
      expect(b.files).toEqual([])
      expect(b.skipped).toHaveLength(1)
      expect(b.skipped[0].path).toBe('bomb.bin')
      expect(b.skipped[0].reason).toMatch(/possible zip bomb; the rest were not read/)
    })

    it(`${name}: a corrupt deflate stream is a skipped entry`, () => {
      const zip = zipSync({ 'a.txt': strToU8('hello hello hello hello') }, { level: 9 })
      // The deflate data starts after the 30-byte local header and the 5-byte name.
      const bad = zip.slice()
      bad.fill(0xff, 35, 40)
      const b = openZip(bad, DEFAULT_ZIP_LIMITS, inflate)
      expect(b.files).toEqual([])
      expect(b.skipped[0]).toMatchObject({ path: 'a.txt' })
      expect(b.skipped[0].reason).toMatch(/^corrupt zip entry: /)
    })
  }
})

describe('openZip with a native inflater', () => {
  it('lets it inflate each entry to the room left: the entry limit or what is left of the budget', () => {
    const zip = zipSync({ 'a.bin': new Uint8Array(1000), 'b.bin': new Uint8Array(1000) })
    const rooms: number[] = []
    const spy: InflateRaw = (data, maxBytes) => {
      rooms.push(maxBytes)
      return nodeInflateRaw(data, maxBytes)
    }
    const budget = zip.length * 10
    const b = openZip(zip, { ...DEFAULT_ZIP_LIMITS, maxEntryBytes: 1500, maxRatio: 10 }, spy)
    expect(b.files).toHaveLength(2)
    // The first entry: its limit (the budget is larger); the second: what the first left.
    expect(rooms).toEqual([Math.min(1500, budget), Math.min(1500, budget - 1000)])
  })
})

describe('gunzipBounded', () => {
  it('refuses to inflate past the cap', () => {
    const gz = gzipSync(new Uint8Array(1_000_000))
    const r = gunzipBounded(gz, 1000)
    expect(r.error).toMatch(/limit/)
    expect(r.bytes.length).toBeLessThanOrEqual(1000)
  })
  it('says a truncated stream is truncated and keeps what inflated', () => {
    const gz = gzipSync(strToU8('a'.repeat(100_000) + 'b'.repeat(100_000)), { level: 0 })
    const r = gunzipBounded(gz.subarray(0, gz.length - 50_000), 1e9)
    expect(r.error).toMatch(/truncated/)
    expect(r.bytes.length).toBeGreaterThan(100_000)
  })
})

describe('mergeBundles and prefixBundle', () => {
  it('keeps two zips apart by prefix and merges their manifests', () => {
    const m = (path: string) =>
      strToU8(JSON.stringify({ schema: 'dnsbundle.manifest/v1', files: [{ path, kind: 'pcap' }] }))
    const a = openZip(zipSync({ 'manifest.json': m('x.pcap'), 'x.pcap': strToU8('a') }))
    const b = openZip(zipSync({ 'manifest.json': m('x.pcap'), 'x.pcap': strToU8('b') }))
    const merged = mergeBundles([prefixBundle(a, 'a.zip:'), prefixBundle(b, 'b.zip:')])
    expect(merged.files.map((f) => f.path)).toEqual(['a.zip:x.pcap', 'b.zip:x.pcap'])
    expect(merged.manifest?.files.map((f) => f.path)).toEqual(['a.zip:x.pcap', 'b.zip:x.pcap'])
  })
})
