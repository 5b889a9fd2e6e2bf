import { describe, expect, it } from 'vitest'
import { zipSync, gzipSync, strToU8 } from 'fflate'
import { openZip } from '../../core/bundle/zip.js'
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
