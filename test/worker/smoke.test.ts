import { describe, expect, it } from 'vitest'
import { call, exampleBundle, upload } from './helpers.js'

describe('smoke', () => {
  it('uploads and reads back', async () => {
    const created = await upload(exampleBundle())
    expect(created.analyzed).toBe(true)
    const res = await call(`/api/reports/${created.id}`)
    expect(res.status).toBe(200)
    const report = (await res.json()) as { schema: string }
    expect(report.schema).toBe('dnsbundle.report/v1')
    const page = await call(`/r/${created.id}`)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('placeholder-app')
  })
})
