// The scheduled expiry sweep, run through the worker's real `scheduled` handler.
import { beforeEach, describe, expect, it } from 'vitest'
import { env } from 'cloudflare:workers'
import {
  createExecutionContext,
  createScheduledController,
  reset,
  waitOnExecutionContext,
} from 'cloudflare:test'
import worker from '../../worker/index.js'
import { call, exampleBundle, upload } from './helpers.js'

beforeEach(() => reset())

const DAY = 86400e3

/** Runs the worker's scheduled handler as the cron would at `time`, and waits for its work. */
async function runCron(time: number): Promise<void> {
  const ctx = createExecutionContext()
  await worker.scheduled(
    createScheduledController({ scheduledTime: time, cron: '23 * * * *' }),
    env,
    ctx,
  )
  await waitOnExecutionContext(ctx)
}

describe('scheduled expiry sweep', () => {
  it('deletes expired reports and bundles and keeps the live ones', async () => {
    const short = await upload(exampleBundle(), '?expiresInDays=1&share=1')
    const long = await upload(exampleBundle(), '?expiresInDays=60&share=1')
    const reportOnly = await call('/api/reports?expiresInDays=2', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: await (await call(`/api/reports/${long.id}`)).text(),
    }).then((r) => r.json() as Promise<{ id: string }>)

    // The sweep 3 days from now: `short` and `reportOnly` have expired, `long` has not.
    await runCron(Date.now() + 3 * DAY)

    const bundles = (await env.BUNDLES.list()).objects.map((o) => o.key)
    expect(bundles).toEqual([`bundles/${long.id}`])
    const records = (await env.REPORTS.list()).keys.map((k) => k.name)
    expect(records).toEqual([`share:${long.id}`])
    expect((await call(`/api/reports/${long.id}`)).status).toBe(200)
    expect((await call(`/api/reports/${short.id}`)).status).toBe(404)
    expect((await call(`/api/reports/${reportOnly.id}`)).status).toBe(404)
  })

  it('deletes a bundle left without expiry metadata (never written by this worker)', async () => {
    await env.BUNDLES.put('bundles/stray', new Uint8Array([1, 2, 3]))
    await runCron(Date.now())
    expect((await env.BUNDLES.list()).objects).toEqual([])
  })

  it('sets the KV expiration so storage drops a record even without the sweep', async () => {
    const created = await upload(exampleBundle(), '?expiresInDays=3')
    const { keys } = await env.REPORTS.list()
    expect(keys).toHaveLength(1)
    expect(keys[0].expiration).toBe(Math.ceil(Date.parse(created.expiresAt) / 1000))
  })
})
