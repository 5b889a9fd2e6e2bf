// The human report in three formats, on a report built by the real rules from hostile input:
// the first screen (verdict, evidence, mitigation) comes first, every section is there in order,
// and no input string can inject markup or terminal escapes.
import { describe, expect, it } from 'vitest'
import { toText, plain } from '../../core/report/to-text.js'
import { toMarkdown, md, mdCode } from '../../core/report/to-markdown.js'
import { toHtml, escapeHtml, HTML_CSP } from '../../core/report/to-html.js'
import { renderReport } from '../../core/report/render.js'
import type { Report } from '../../core/model/report.js'
import { HOSTILE_ATTR, HOSTILE_PATH, HOSTILE_QNAME, sampleReport } from './sample-report.js'

function inOrder(s: string, marks: string[]): void {
  let at = -1
  for (const m of marks) {
    const i = s.indexOf(m, at + 1)
    expect(i, `"${m}" after position ${at}`).toBeGreaterThan(at)
    at = i
  }
}

const report = sampleReport()

describe('the sample report', () => {
  it('has a packet-drop verdict from the rules, and an upstream-failure beside it', () => {
    expect(report.verdict?.findingId).toBe('packet-drop')
    expect(report.findings.map((f) => f.id)).toContain('upstream-failure')
  })
})

describe('escapeHtml', () => {
  it.each([
    ['<script>alert(1)</script>.x.', '&lt;script&gt;alert(1)&lt;/script&gt;.x.'],
    ['"onmouseover=alert(1) x=".example.', '&quot;onmouseover=alert(1) x=&quot;.example.'],
    ["a'b&c", 'a&#39;b&amp;c'],
    ['&amp;', '&amp;amp;'],
  ])('%s', (input, out) => expect(escapeHtml(input)).toBe(out))
})

describe('toText', () => {
  const t = toText(report)
  it('opens with the verdict, its evidence and what to do; then the other sections in order', () => {
    expect(t.split('\n')[2]).toBe(
      'Most likely cause: DNS packets lost in transit (confidence 85%).',
    )
    inOrder(t, [
      'Most likely cause',
      'Evidence:',
      'pod-a.pcap packet',
      'What to do:',
      'Failure pattern:',
      'OTHER FINDINGS',
      '[WARNING] The upstream resolver does not answer',
      'WORST LOOKUPS',
      '+0.180 ms',
      'SUMMARY',
      'unanswered',
      'IN THE BUNDLE',
      'problem at packet 9',
      'SKIPPED',
      HOSTILE_PATH,
    ])
  })
  it('shows the drop evidence and the kernel reason', () => {
    expect(t).toContain('node-a/drops.txt line')
    expect(t).toContain('in ipt_do_table (NETFILTER_DROP)')
  })
  it('strips terminal escapes and bidi overrides from input', () => {
    expect(t).not.toMatch(/[\u001b\u202e]/)
    expect(t).toContain('evil \\u{1b}[2J\\u{1b}[31m cleared \\u{202e} gnp.exe')
    expect(plain('a\nb\rc')).toBe('a b c')
  })
  it('renders through renderReport', () => expect(renderReport(report, 'text')).toBe(t))
})

describe('toMarkdown', () => {
  const m = toMarkdown(report)
  it('has the same order, as headings', () => {
    inOrder(m, [
      '# dnsbundle report',
      '**Most likely cause: DNS packets lost in transit (confidence 85%).**',
      'Evidence:',
      '**What to do:**',
      '## Failure pattern',
      '## Other findings',
      '## Worst lookups',
      '## Summary',
      '## In the bundle',
      '### Skipped',
    ])
  })
  it('never lets input markup through outside code spans', () => {
    // Remove code spans (any fence length), then nothing from the input may remain as a tag.
    const outside = m.replace(/(`+)(?:(?!\1)[^])*?\1/g, '')
    expect(outside).not.toMatch(/<(?!br>)[a-z/!]/i)
    expect(outside).toContain('&lt;script&gt;alert(1)&lt;/script&gt;.x.')
    expect(outside).toContain('../../&lt;img src=x onerror=alert(1)&gt;.pcap')
  })
  it('escapes table pipes and code-span fences in input', () => {
    expect(md('a|b')).toBe('a\\|b')
    expect(mdCode('x`y')).toBe('``x`y``')
    expect(mdCode('`x')).toBe('`` `x ``')
  })
  it('renders through renderReport', () => expect(renderReport(report, 'md')).toBe(m))
})

describe('toHtml', () => {
  const h = toHtml(report)
  it('is one self-contained file with its own CSP, no script, no fetch', () => {
    expect(
      h.startsWith('<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'),
    ).toBe(true)
    expect(h).toContain(
      `<meta http-equiv="Content-Security-Policy" content="${HTML_CSP.replace(/'/g, '&#39;')}">`,
    )
    expect(HTML_CSP).toBe("default-src 'none'; style-src 'unsafe-inline'; img-src data:")
    expect(h.indexOf('Content-Security-Policy')).toBeLessThan(h.indexOf('<style>'))
    // Escaped input has no raw '<', so every tag below is the renderer's own markup.
    const tags = h.match(/<[^>]*>/g) ?? []
    expect(tags.length).toBeGreaterThan(50)
    const names = new Set(tags.map((t) => /^<\/?([a-z0-9!]+)/i.exec(t)?.[1]?.toLowerCase()))
    for (const bad of [
      'script',
      'link',
      'img',
      'iframe',
      'object',
      'embed',
      'base',
      'form',
      'svg',
      'math',
      'input',
    ])
      expect(names).not.toContain(bad)
    for (const t of tags)
      expect(t).not.toMatch(/\s(on[a-z]+|src|srcset|style|action|formaction)\s*=/i)
    expect(h).not.toMatch(/@import|url\(/i)
  })
  it('escapes every input string', () => {
    expect(h).toContain(escapeHtml(HOSTILE_QNAME))
    expect(h).toContain(escapeHtml(HOSTILE_ATTR))
    expect(h).toContain(escapeHtml(HOSTILE_PATH))
    expect(h).not.toContain(HOSTILE_QNAME)
  })
  it('puts the verdict, evidence and mitigation on the first screen, then the rest in order', () => {
    inOrder(h, [
      '<section class="verdict" id="verdict">',
      'Most likely cause',
      '<table class="evidence">',
      'What to do:',
      'Failure pattern:',
      '</section>',
      'id="findings"',
      'id="lookups"',
      'id="summary"',
      'id="inputs"',
      'Skipped',
    ])
    expect(h).toContain(
      '<details>\n<summary><span class="sev sev-warning">WARNING</span> The upstream resolver does not answer',
    )
    expect(h).toContain('<code>iptables-save -c | grep -E &#39;DROP|REJECT&#39;</code>')
  })
  it('says so when there is nothing to report', () => {
    const empty: Report = {
      ...report,
      verdict: null,
      findings: [],
      alternatives: [],
      pattern: undefined,
      worstLookups: [],
    }
    expect(toHtml(empty)).toContain('No DNS problem found in this bundle.')
    expect(toText(empty)).toContain('No DNS problem found in this bundle.')
  })
  it('says when the bundle has no queries to measure the pattern on', () => {
    const noQueries: Report = {
      ...report,
      pattern: { ...report.pattern, frequency: 'none', transactions: 0, failures: 0 },
    }
    expect(toText(noQueries)).toContain(
      'Failure pattern: The bundle has no client queries, so how often and how widely DNS fails cannot be measured.',
    )
  })
  it('renders through renderReport', () => expect(renderReport(report, 'html')).toBe(h))
})
