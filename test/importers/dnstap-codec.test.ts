import { describe, expect, it } from 'vitest'
import { corpus } from '../corpus.js'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FrameStreamReader, looksLikeFrameStream } from '../../core/codec/frame-stream.js'
import {
  decodeDnstap,
  newDnstapFields,
  type DnstapFields,
} from '../../core/codec/dnstap-message.js'
import { dnstap } from '../../core/codec/dnstap-pb.js'

const ROOT = join(import.meta.dirname, '../..')
const CORPUS = corpus('dnstap')
const FRAMED = [
  'bind9/dnstap.saved.fstrm',
  'bind9/large-answer.fstrm',
  'go-dnscollector_dnsdist.fstrm',
  'pktvisor_fixture.dnstap',
  'fstrm_test_non-dnstap_content-type.fstrm',
]
const LIVE_FIXTURE = join(ROOT, 'test/fixtures/dnstap/unbound/1.17.1/lab-queries.fstrm')

function read(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path))
}

function frames(bytes: Uint8Array): Uint8Array[] {
  const r = new FrameStreamReader(bytes)
  const out: Uint8Array[] = []
  if (r.open()) while (r.next()) out.push(bytes.subarray(r.dataStart, r.dataEnd))
  return out
}

describe('FrameStreamReader against fstrm_dump (fstrm-bin), run live', () => {
  for (const rel of FRAMED) {
    it(`${rel}: same content type and data frame sizes`, () => {
      const bytes = read(join(CORPUS, rel))
      // fstrm_dump writes the frame headers to stderr and the escaped payloads to stdout.
      const dump = spawnSync('fstrm_dump', [join(CORPUS, rel)], {
        encoding: 'latin1',
        maxBuffer: 1 << 26,
      })
      expect(dump.status, dump.stderr).toBe(0)
      const sizes = [...dump.stderr.matchAll(/^Data frame \((\d+)\) bytes\.$/gm)].map((m) =>
        Number(m[1]),
      )
      const type = /^FSTRM_CONTROL_FIELD_CONTENT_TYPE \(\d+ bytes\)\.\n "(.*)"$/m.exec(
        dump.stderr,
      )?.[1]
      const r = new FrameStreamReader(bytes)
      expect(r.open()).toBe(true)
      const ours: number[] = []
      while (r.next()) ours.push(r.dataEnd - r.dataStart)
      expect(r.contentTypes).toEqual([type])
      expect(ours).toEqual(sizes)
    })
  }

  it('the fstrm test file: the ten text frames, byte for byte', () => {
    const got = frames(read(join(CORPUS, 'fstrm_test_non-dnstap_content-type.fstrm'))).map((f) =>
      new TextDecoder().decode(f),
    )
    expect(got).toEqual(Array.from({ length: 10 }, (_, i) => `Hello, world #${i}\n`))
  })

  it('frames are views into the input, not copies', () => {
    const bytes = read(join(CORPUS, 'go-dnscollector_dnsdist.fstrm'))
    for (const f of frames(bytes)) expect(f.buffer).toBe(bytes.buffer)
  })

  it('looksLikeFrameStream needs the escape and a START control frame', () => {
    expect(looksLikeFrameStream(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 2]))).toBe(true)
    expect(looksLikeFrameStream(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 3]))).toBe(false) // STOP
    expect(looksLikeFrameStream(new Uint8Array([0, 0, 0, 0, 0, 0, 2, 1, 0, 0, 0, 2]))).toBe(false) // > 512
    expect(
      looksLikeFrameStream(new Uint8Array([0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0])),
    ).toBe(false) // pcap
  })
})

/** protobufjs's generated decoder, reduced to the fields our reader returns. */
function oracle(frame: Uint8Array): Record<string, unknown> {
  const d = dnstap.Dnstap.decode(frame)
  const m = d.message
  const has = (o: object | null | undefined, k: string) =>
    !!o && Object.prototype.hasOwnProperty.call(o, k)
  const bytes = (o: object | null | undefined, k: string) =>
    has(o, k) ? Array.from((o as Record<string, Uint8Array>)[k]) : null
  const num = (o: object | null | undefined, k: string) => {
    if (!has(o, k)) return -1
    const v = (o as Record<string, unknown>)[k]
    return typeof v === 'number' ? v : (v as { toNumber(): number }).toNumber()
  }
  return {
    identity: bytes(d, 'identity'),
    version: bytes(d, 'version'),
    hasMessage: !!m,
    type: m ? m.type : 0,
    socketFamily: num(m, 'socketFamily'),
    socketProtocol: num(m, 'socketProtocol'),
    queryAddress: bytes(m, 'queryAddress'),
    responseAddress: bytes(m, 'responseAddress'),
    queryPort: num(m, 'queryPort'),
    responsePort: num(m, 'responsePort'),
    queryTimeSec: num(m, 'queryTimeSec'),
    queryTimeNsec: num(m, 'queryTimeNsec'),
    responseTimeSec: num(m, 'responseTimeSec'),
    responseTimeNsec: num(m, 'responseTimeNsec'),
    queryMessage: bytes(m, 'queryMessage'),
    responseMessage: bytes(m, 'responseMessage'),
    queryZone: bytes(m, 'queryZone'),
  }
}

/** Our reader's fields in the oracle's shape (0 = an absent enum). */
function ours(frame: Uint8Array, f: DnstapFields): Record<string, unknown> {
  decodeDnstap(frame, 0, frame.length, f)
  const bytes = (s: number, e: number) => (s < 0 ? null : Array.from(frame.subarray(s, e)))
  const known = (v: number) => (v === 0 ? -1 : v)
  return {
    identity: bytes(f.identityStart, f.identityEnd),
    version: bytes(f.versionStart, f.versionEnd),
    hasMessage: f.hasMessage,
    type: f.type,
    socketFamily: known(f.socketFamily),
    socketProtocol: known(f.socketProtocol),
    queryAddress: bytes(f.queryAddressStart, f.queryAddressEnd),
    responseAddress: bytes(f.responseAddressStart, f.responseAddressEnd),
    queryPort: f.queryPort,
    responsePort: f.responsePort,
    queryTimeSec: f.queryTimeSec,
    queryTimeNsec: f.queryTimeNsec,
    responseTimeSec: f.responseTimeSec,
    responseTimeNsec: f.responseTimeNsec,
    queryMessage: bytes(f.queryMessageStart, f.queryMessageEnd),
    responseMessage: bytes(f.responseMessageStart, f.responseMessageEnd),
    queryZone: bytes(f.queryZoneStart, f.queryZoneEnd),
  }
}

function allDnstapFrames(): Uint8Array[] {
  const out: Uint8Array[] = []
  for (const rel of FRAMED.slice(0, 4)) out.push(...frames(read(join(CORPUS, rel))))
  out.push(...frames(read(LIVE_FIXTURE)))
  for (const f of readdirSync(join(CORPUS, 'bind9')).filter((n) => n.endsWith('.rawpb')))
    out.push(read(join(CORPUS, 'bind9', f)))
  return out
}

describe('the hand-rolled Dnstap reader against protobufjs static code (the oracle)', () => {
  it('every real frame decodes to the same fields, and both reject the same frames', () => {
    const f = newDnstapFields()
    let compared = 0
    for (const frame of allDnstapFrames()) {
      let expected: Record<string, unknown> | Error
      try {
        expected = oracle(frame)
      } catch (e) {
        expected = e as Error
      }
      if (expected instanceof Error) {
        expect(() => ours(frame, f)).toThrow()
        continue
      }
      expect(ours(frame, f)).toEqual(expected)
      compared++
    }
    expect(compared).toBeGreaterThan(250)
  })

  it('mutated frames (seeded byte flips, truncations): both accept the same frames, with the same fields', () => {
    const f = newDnstapFields()
    let seed = 12345
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return seed % n
    }
    let bothAccept = 0
    let bothReject = 0
    const disagree: string[] = []
    for (const frame of allDnstapFrames()) {
      for (let k = 0; k < 20; k++) {
        const m = frame.slice(0, k % 5 === 0 ? rand(frame.length + 1) : frame.length)
        for (let flips = 1 + rand(3); flips > 0 && m.length; flips--) m[rand(m.length)] = rand(256)
        let a: Record<string, unknown> | null = null
        let b: Record<string, unknown> | null = null
        try {
          a = oracle(m)
        } catch {
          a = null
        }
        try {
          b = ours(m, f)
        } catch {
          b = null
        }
        if (a && b) {
          expect(b).toEqual(a)
          bothAccept++
        } else if (!a && !b) bothReject++
        else disagree.push(Array.from(m, (x) => x.toString(16).padStart(2, '0')).join(''))
      }
    }
    expect(bothAccept).toBeGreaterThan(1000)
    expect(bothReject).toBeGreaterThan(100)
    expect(disagree).toEqual([])
  })
})

describe('the generated protobufjs code', () => {
  it('is up to date with core/codec/dnstap.proto (regenerated into a temp dir and compared)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dnstap-gen-'))
    try {
      const r = spawnSync(process.execPath, [join(ROOT, 'scripts/gen-dnstap.mjs'), dir], {
        encoding: 'utf8',
      })
      expect(r.status, r.stderr).toBe(0)
      for (const name of ['dnstap-pb.js', 'dnstap-pb.d.ts'])
        expect(
          readFileSync(join(dir, name), 'utf8'),
          `${name} is stale: run node scripts/gen-dnstap.mjs`,
        ).toBe(readFileSync(join(ROOT, 'core/codec', name), 'utf8'))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 120_000)

  it('is static ESM on protobufjs/minimal.js: no reflection, no code generation at run time', () => {
    const js = readFileSync(join(ROOT, 'core/codec/dnstap-pb.js'), 'utf8')
    expect(js).toMatch(/^import \$protobuf from "protobufjs\/minimal\.js";$/m)
    expect(js).not.toMatch(/\bnew Function\b|\beval\(|codegen|\bprotobuf\.parse\b/)
  })
})
