import { describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { corpus, REPO_ROOT } from '../corpus.js'

const CLI = join(REPO_ROOT, 'dist/dnsbundle.mjs')
const dir = mkdtempSync(join(tmpdir(), 'dnsbundle-cli-'))

/** Runs the built CLI with stdout on a pipe, as `dnsbundle … | jq` would. */
function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (d) => out.push(d))
    child.stderr.on('data', (d) => err.push(d))
    child.on('close', (code) =>
      resolve({
        code,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      }),
    )
  })
}

describe('dnsbundle analyze', () => {
  it('reports dnscap dns.pcap: 41 transactions, none unanswered', async () => {
    const r = await cli(['analyze', corpus('pcap/dnscap/dns.pcap'), '--format', 'json'])
    expect(r.code).toBe(0)
    const report = JSON.parse(r.stdout)
    expect(report.schema).toBe('dnsbundle.report/v1')
    expect(report.summary).toMatchObject({ transactions: 41, unanswered: 0 })
  })

  it('writes a large --detail report to a pipe in full', async () => {
    const r = await cli([
      'analyze',
      corpus('pcap/pktvisor/dns_udp_tcp_random.pcap'),
      '--format',
      'json',
      '--detail',
    ])
    expect(r.code).toBe(0)
    expect(r.stdout.length).toBeGreaterThan(1 << 20)
    const report = JSON.parse(r.stdout)
    expect(report.transactions).toHaveLength(report.summary.transactions)
  })

  it('writes text, Markdown and HTML, and --out writes the file', async () => {
    const text = await cli(['analyze', corpus('pcap/dnscap/dns.pcap')])
    expect(text.stdout).toMatch(/dnsbundle report/)
    const md = await cli(['analyze', corpus('pcap/dnscap/dns.pcap'), '--format', 'md'])
    expect(md.stdout).toMatch(/^# /m)
    const out = join(dir, 'report.html')
    const html = await cli([
      'analyze',
      corpus('pcap/dnscap/dns.pcap'),
      '--format',
      'html',
      '--out',
      out,
    ])
    expect(html.code).toBe(0)
    expect(html.stdout).toBe('')
    expect(readFileSync(out, 'utf8')).toMatch(/^<!doctype html>/i)
  })

  it('exits 2 with a one-line reason when nothing could be read', async () => {
    const junk = join(dir, 'junk.bin')
    writeFileSync(junk, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]))
    const r = await cli(['analyze', junk, '--format', 'json'])
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/nothing could be read .*unrecognised binary format/)
    expect(JSON.parse(r.stdout).inputs[0].skipped).toMatch(/unrecognised binary format/)
  })

  it('keeps analyzing the rest when one input is missing or unknown', async () => {
    const r = await cli([
      'analyze',
      join(dir, 'no-such-file'),
      corpus('pcap/dnscap/dns.pcap'),
      '--format',
      'json',
    ])
    expect(r.code).toBe(0)
    const report = JSON.parse(r.stdout)
    expect(report.summary.transactions).toBe(41)
    expect(
      report.inputs.find((i: { path: string }) => i.path.endsWith('no-such-file')).skipped,
    ).toMatch(/cannot read: ENOENT/)
  })

  it('says what is wrong with a usage error and exits 1', async () => {
    const r = await cli(['analyze', corpus('pcap/dnscap/dns.pcap'), '--format', 'pdf'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/--format must be text, json, md or html/)
  })

  it('shows a progress bar on stderr for inputs over a few MB', async () => {
    const big = join(dir, 'big.pcap')
    const one = readFileSync(corpus('pcap/pktvisor/dns_udp_tcp_random.pcap'))
    // Classic pcap: keep the first copy's global header, append the records of the others.
    const parts = [one]
    while (parts.reduce((n, p) => n + p.length, 0) < 5 * 1024 * 1024) parts.push(one.subarray(24))
    writeFileSync(big, Buffer.concat(parts))
    const r = await cli(['analyze', big, '--format', 'json'])
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/import\s+\[#+\.*\]\s+\d+%/)
  })
})
