// Every capture of the shared corpus against tshark, run live: the DNS messages we count (and the
// frame each one is in) must be the ones tshark counts with
//   tshark -r F -Y 'dns && (udp.port==53 || tcp.port==53)' -T fields -e dns.id
// (comma-separated ids counted one by one). Files where we differ on purpose are listed below,
// each with its reason and its own check. Every file is fed under the meaningless name x.bin.
import { execFile } from 'node:child_process'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import { corpus } from '../corpus.js'
import { analyze, ourMessages, tsharkMessages, tsharkFields } from './capture-synth.js'
import type { DnsMessageEvent } from '../../core/model/event.js'

const run = promisify(execFile)
const ROOT = corpus('pcap')

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    return statSync(p).isDirectory() ? walk(p) : [p]
  })
}

// Every capture: the corpus also holds tool text outputs (.txt, .out), which are not captures.
const FILES = walk(ROOT)
  .filter((p) => !p.endsWith('.txt') && !p.endsWith('.out'))
  .map((p) => relative(ROOT, p))
  .sort()

interface Ctx {
  file: string
  ours: DnsMessageEvent[]
  theirs: string[]
  problems: { where: string; message: string }[]
}

/** Messages tshark counts whose header or question does not decode: we name them as problems instead. */
function undecodableNamed({ ours, theirs, problems }: Ctx): void {
  const mine = new Set(ourMessages(ours))
  const missing = theirs.filter((m) => !mine.has(m))
  expect(missing.length).toBeGreaterThan(0)
  for (const m of ourMessages(ours)) expect(theirs).toContain(m)
  for (const m of missing) {
    const frame = m.split(':')[0]
    expect(
      problems.some((p) => p.where === `packet ${frame}` && /Cannot decode/.test(p.message)),
    ).toBe(true)
  }
  expect(problems.some((p) => /did not decode as DNS and were not counted/.test(p.message))).toBe(
    true,
  )
}

/** Queries of the complete capture of the same exchanges (dnso1tcp.pcap): id -> qname. */
function fullExchangeQueries(): Map<number, string> {
  const { dns } = analyze(readFileSync(join(ROOT, 'dnscap/dnso1tcp.pcap')))
  return new Map(dns.filter((e) => !e.qr).map((e) => [e.id, e.qname]))
}

const DIFFERENT_ON_PURPOSE: Record<string, { reason: string; check: (c: Ctx) => void }> = {
  'dnscap/dnso1tcp-bighole.pcap': {
    reason:
      'A hole in the client stream leaves a message body without its length prefix. tshark reads ' +
      'that body as a length (some 60 KB) and waits for it to the end of the file, losing every ' +
      'later client query (41 messages). We see that the bytes cannot start a DNS message, skip to ' +
      'the next segment and resynchronize: only the 6 messages the two holes cut are lost (76 of 82).',
    check({ ours, theirs, problems }) {
      const mine = ourMessages(ours)
      for (const m of theirs) expect(mine).toContain(m)
      const extra = ours.filter((e) => !theirs.includes(`${e.ref}:${e.id}`))
      const full = fullExchangeQueries()
      expect(extra.length).toBe(35)
      for (const e of extra) {
        expect(e).toMatchObject({
          qr: false,
          srcAddr: '172.17.0.8',
          srcPort: 51388,
          dstAddr: '8.8.8.8',
          dstPort: 53,
          transport: 'tcp',
        })
        expect(e.ref).toBeGreaterThan(20)
        expect(full.get(e.id)).toBe(e.qname)
      }
      expect(ours.length).toBe(82 - 6)
      expect(problems.map((p) => p.message).join('\n')).toMatch(
        /79 bytes were never captured[\s\S]*resynchronizing[\s\S]*237 bytes were never captured/,
      )
    },
  },
  'dnscap/do1t-nosyn-1nolen.pcap': {
    reason:
      'The capture starts mid-stream with a message body whose length prefix was never captured. ' +
      'tshark takes its id (0xe7af) for a length and swallows the next client query too; we skip ' +
      'the implausible bytes and decode that query (0x8b51 PTR), so we count 3 where tshark counts 2.',
    check({ ours, theirs }) {
      const mine = ourMessages(ours)
      for (const m of theirs) expect(mine).toContain(m)
      const extra = ours.filter((e) => !theirs.includes(`${e.ref}:${e.id}`))
      expect(extra).toHaveLength(1)
      expect(extra[0]).toMatchObject({
        ref: 7,
        id: 0x8b51,
        qr: false,
        qname: '206.218.58.216.in-addr.arpa.',
        qtype: 12,
      })
      expect(fullExchangeQueries().get(0x8b51)).toBe('206.218.58.216.in-addr.arpa.')
    },
  },
  'pktvisor/dns_udp_tcp_random.pcap': {
    reason:
      'Some TCP segments arrive out of order (the first copy was lost and retransmitted later). We ' +
      'reassemble out-of-order segments; tshark does by default not, and reads one message fewer per ' +
      'such stream (5824). With -o tcp.reassemble_out_of_order:TRUE tshark finds the same 5851 ' +
      "messages; it files a held segment's messages under the frame that closed the gap, we under " +
      'the frame that carried their bytes, so ids are compared, not frame numbers.',
    check({ file, ours }) {
      const ooo = tsharkMessages(join(ROOT, file), ['-o', 'tcp.reassemble_out_of_order:TRUE'])
      const ids = (l: string[]) => l.map((m) => m.split(':')[1]).sort()
      expect(ids(ourMessages(ours))).toEqual(ids(ooo))
    },
  },
  'tcpdump/dns-badlabel.pcap': {
    reason:
      'A fuzzed 63 KB response whose question name is longer than 255 octets: tshark counts the header, we report it as undecodable.',
    check: undecodableNamed,
  },
  'tcpdump/dns_fwdptr.pcap': {
    reason:
      'A fuzzed response whose question name is a forward compression pointer: tshark counts the header, we report it as undecodable.',
    check: undecodableNamed,
  },
  'zeek/dns_dns-invalid-names.pcap': {
    reason:
      'Three queries whose question names run past the message or point forward: tshark counts their headers, we report each as undecodable.',
    check: undecodableNamed,
  },
  'tcpdump/rtp-seg-fault-1.pcapng': {
    reason:
      'A fuzzed packet to port 53 with 9 bytes of UDP payload, less than a DNS header: tshark counts a malformed DNS id, we report it as undecodable.',
    check: undecodableNamed,
  },
  'zeek/icmp_icmp-destunreach-udp.pcap': {
    reason:
      'The only DNS here is the copy of a response quoted inside an ICMP port-unreachable error. ' +
      'tshark decodes the quote; it is not a message on the wire, so we do not count it.',
    check({ file, ours, theirs }) {
      expect(ours).toHaveLength(0)
      expect(theirs).toHaveLength(1)
      const icmp = tsharkFields(
        join(ROOT, file),
        ['frame.number', 'icmp.type', 'icmp.code'],
        ['-Y', 'icmp'],
      )
      expect(icmp).toEqual([['1', '3', '3']])
    },
  },
}

const tshark = new Map<string, string[]>()

beforeAll(async () => {
  // tshark per file, two at a time (the machine has two cores).
  const queue = [...FILES]
  const worker = async () => {
    for (let f = queue.shift(); f !== undefined; f = queue.shift()) {
      const { stdout } = await run(
        'tshark',
        [
          '-r',
          join(ROOT, f),
          '-Y',
          'dns && (udp.port==53 || tcp.port==53)',
          '-T',
          'fields',
          '-e',
          'frame.number',
          '-e',
          'dns.id',
        ],
        { maxBuffer: 64 * 1024 * 1024 },
      )
      const messages: string[] = []
      for (const line of stdout.split('\n')) {
        const [frame, ids] = line.split('\t')
        if (ids) for (const id of ids.split(',')) messages.push(`${frame}:${Number(id)}`)
      }
      tshark.set(f, messages)
    }
  }
  await Promise.all([worker(), worker()])
}, 300_000)

describe('DNS messages per corpus capture, against tshark', () => {
  it('finds the corpus', () => {
    expect(FILES.length).toBeGreaterThan(100)
    for (const f of Object.keys(DIFFERENT_ON_PURPOSE)) expect(FILES).toContain(f)
  })

  for (const file of FILES) {
    it(file, () => {
      const { report, dns } = analyze(readFileSync(join(ROOT, file)))
      const input = report.inputs[0]
      expect(input.kind).toMatch(/^pcap(ng)?(\+gzip)?$/)
      expect(input.skipped).toBeUndefined()
      const theirs = tshark.get(file)!
      const special = DIFFERENT_ON_PURPOSE[file]
      if (special) {
        expect(report.summary.messages).not.toBe(theirs.length)
        special.check({ file, ours: dns, theirs, problems: input.problems })
        return
      }
      expect(report.summary.messages).toBe(theirs.length)
      // Not only as many: the same messages in the same frames.
      expect(ourMessages(dns).sort()).toEqual([...theirs].sort())
    })
  }
})
