// API errors: one JSON shape, `{ "error": code, "message": text, ...details }`, and one handler
// that turns anything unexpected into a bare 500. No stack trace or internal message ever leaves.
import type { ErrorHandler } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { AppEnv } from './env.js'

/** A client-facing error: the status, a stable code and a message written for the caller. */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message)
  }
}

/**
 * The one not-found answer, for unknown, expired, unshared and malformed ids alike, so a
 * response never tells them apart.
 * @example
 *   if (!share) throw notFound()
 */
export function notFound(): ApiError {
  return new ApiError(404, 'not-found', 'no such report (unknown or expired id)')
}

/**
 * The app's only error handler (`app.onError(handleError)`).
 * @example
 *   throw new ApiError(415, 'unsupported-media-type', 'send application/zip')
 *   // -> 415 {"error":"unsupported-media-type","message":"send application/zip"}
 */
export const handleError: ErrorHandler<AppEnv> = (err, c) => {
  if (err instanceof ApiError) {
    return c.json({ error: err.code, message: err.message, ...err.details }, err.status)
  }
  // Unexpected: log it for the operator (wrangler tail), tell the client nothing about it.
  console.error('dnsbundle worker: unhandled error:', err instanceof Error ? err.stack : err)
  return c.json({ error: 'internal', message: 'internal error' }, 500)
}
