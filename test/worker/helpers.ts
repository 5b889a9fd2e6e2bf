// Shared helpers for the workerd tests: requests go through the worker's real fetch handler.
import type { ShareCreated as Created } from '../../core/model/share.js'
import { exports } from 'cloudflare:workers'
import { inject } from 'vitest'

export const ORIGIN = 'http://dnsbundle.test'

/** Sends a request to the worker (its default export's fetch). */
export function call(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(ORIGIN + path, init))
}

/** The real example bundle (examples/incident-bundle.zip), provided by global-setup.ts. */
export function exampleBundle(): Uint8Array {
  return fromBase64(inject('exampleBundle'))
}

/** dnstap + CoreDNS log + CoreDNS metrics from the corpus, provided by global-setup.ts. */
export function mixedBundle(): Uint8Array {
  return fromBase64(inject('mixedBundle'))
}

function fromBase64(b64: string): Uint8Array {
  return Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0))
}

/** Uploads a zip and returns the parsed 201 answer. */
export async function upload(zip: Uint8Array, query = ''): Promise<Created> {
  const res = await call('/api/bundles' + query, {
    method: 'POST',
    headers: { 'content-type': 'application/zip' },
    body: zip,
  })
  if (res.status !== 201) throw new Error(`upload: ${res.status} ${await res.text()}`)
  return res.json()
}

/** A body stream of `chunks`, counting how many were pulled (to prove a body was not read). */
export function countingStream(chunks: Uint8Array[]): {
  stream: ReadableStream<Uint8Array>
  pulled: () => number
} {
  let pulled = 0
  // highWaterMark 0: nothing is pulled until the reader asks.
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (pulled < chunks.length) controller.enqueue(chunks[pulled++])
        else controller.close()
      },
    },
    { highWaterMark: 0 },
  )
  return { stream, pulled: () => pulled }
}

/** Hex SHA-256, to compare large bodies without a deep-equal over millions of elements. */
export async function sha256(bytes: Uint8Array | null): Promise<string> {
  if (!bytes) return 'null'
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('')
}
