// The HTML report opened from disk in a real browser (Debian's Chromium through playwright-core):
// nothing runs, nothing is fetched, the hostile input shows as text, and the first screen reads
// the same with JavaScript off.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { BrowserContext } from 'playwright-core'
import { launchChromium } from '../support/chromium.js'
import { toHtml } from '../../core/report/to-html.js'
import { verdictSentence } from '../../core/report/report-view.js'
import { HOSTILE_ATTR, HOSTILE_PATH, HOSTILE_QNAME, sampleReport } from './sample-report.js'

describe('HTML report in Chromium', () => {
  let dir: string
  let url: string
  const contexts: BrowserContext[] = []
  const report = sampleReport()

  async function open(javaScriptEnabled: boolean) {
    const ctx = await launchChromium(mkdtempSync(join(dir, 'profile-')), { javaScriptEnabled })
    contexts.push(ctx)
    const page = ctx.pages()[0] ?? (await ctx.newPage())
    const requests: string[] = []
    const dialogs: string[] = []
    const console: string[] = []
    page.on('request', (r) => requests.push(r.url()))
    page.on('dialog', (d) => {
      dialogs.push(d.message())
      void d.dismiss()
    })
    page.on('console', (m) => console.push(m.text()))
    await page.goto(url)
    await page.waitForLoadState('load')
    return { page, requests, dialogs, console }
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dnsbundle-html-'))
    const file = join(dir, 'report.html')
    writeFileSync(file, toHtml(report))
    url = pathToFileURL(file).href
  })
  afterAll(async () => {
    for (const c of contexts) await c.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('runs nothing, fetches nothing, and shows hostile input as text', async () => {
    const { page, requests, dialogs, console } = await open(true)
    await page.waitForTimeout(200) // give anything that would fire (onerror, timers) a chance
    expect(dialogs).toEqual([])
    expect(requests).toEqual([url])
    expect(console.filter((m) => /Content Security Policy|Refused/.test(m))).toEqual([])
    expect(await page.locator('script, img, iframe, object, embed, link').count()).toBe(0)
    const body = await page.locator('body').innerText()
    expect(body).toContain(HOSTILE_QNAME)
    expect(body).toContain(HOSTILE_ATTR)
    expect(body).toContain(HOSTILE_PATH)
  })

  it('reads without JavaScript: verdict, evidence and mitigation on the first screen', async () => {
    const { page } = await open(false)
    await page.setViewportSize({ width: 1280, height: 900 })
    const sentence = page.locator('#verdict .sentence')
    expect(await sentence.innerText()).toBe(verdictSentence(report))
    await expect.poll(() => sentence.isVisible()).toBe(true)
    const evidence = page.locator('#verdict table.evidence')
    const mitigation = page.locator('#verdict .mitigation')
    for (const el of [evidence, mitigation]) {
      const box = await el.boundingBox()
      expect(box).not.toBeNull()
      expect(box!.y).toBeLessThan(900)
    }
    // Findings collapse into <details>: the closed ones open on a click, natively.
    const closed = page.locator('#findings > details').first()
    expect(await closed.getAttribute('open')).toBeNull() // a warning: starts closed
    await closed.locator('> summary').click()
    expect(await closed.getAttribute('open')).toBe('')
  })
})
