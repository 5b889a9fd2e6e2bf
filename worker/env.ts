// The worker's bindings (wrangler.toml) and the limits read from its vars.

/** Bindings declared in wrangler.toml. */
export interface Env {
  /** Uploaded bundles, key `bundles/<id>`. */
  BUNDLES: R2Bucket
  /** Share records, key `share:<id>`. */
  REPORTS: KVNamespace
  /** The web app's static files (web/dist). */
  ASSETS: Fetcher
  MAX_UPLOAD_BYTES?: string
  MAX_REPORT_BYTES?: string
  ANALYZE_MAX_BYTES?: string
  ANALYZE_MAX_INFLATED_BYTES?: string
  EXPIRY_DAYS?: string
  MAX_EXPIRY_DAYS?: string
}

/** The limits in force, parsed once per request from the vars. */
export interface Limits {
  maxUploadBytes: number
  maxReportBytes: number
  /** Bundles up to this size are analyzed on the server; 0 turns server analysis off. */
  analyzeMaxBytes: number
  /** ... and only when they inflate to at most this many bytes. */
  analyzeMaxInflatedBytes: number
  expiryDays: number
  maxExpiryDays: number
}

export const DEFAULT_LIMITS: Limits = {
  maxUploadBytes: 100 * 1024 * 1024,
  maxReportBytes: 20 * 1024 * 1024,
  // Measured: see wrangler.toml and README.md, "The server".
  analyzeMaxBytes: 1024 * 1024,
  analyzeMaxInflatedBytes: 1024 * 1024,
  expiryDays: 30,
  maxExpiryDays: 90,
}

/**
 * Reads the limits from the vars; a missing or malformed var keeps its default.
 * @example
 *   limitsFrom({ MAX_UPLOAD_BYTES: '1048576' }).maxUploadBytes // 1048576
 */
export function limitsFrom(env: Partial<Env>): Limits {
  const pick = (value: string | undefined, fallback: number): number => {
    const n = Number(value)
    return value !== undefined && value !== '' && Number.isSafeInteger(n) && n >= 0 ? n : fallback
  }
  const d = DEFAULT_LIMITS
  const maxExpiryDays = Math.max(1, pick(env.MAX_EXPIRY_DAYS, d.maxExpiryDays))
  return {
    maxUploadBytes: pick(env.MAX_UPLOAD_BYTES, d.maxUploadBytes),
    maxReportBytes: pick(env.MAX_REPORT_BYTES, d.maxReportBytes),
    analyzeMaxBytes: pick(env.ANALYZE_MAX_BYTES, d.analyzeMaxBytes),
    analyzeMaxInflatedBytes: pick(env.ANALYZE_MAX_INFLATED_BYTES, d.analyzeMaxInflatedBytes),
    expiryDays: Math.min(maxExpiryDays, Math.max(1, pick(env.EXPIRY_DAYS, d.expiryDays))),
    maxExpiryDays,
  }
}

/** Hono's type parameter for this app. */
export interface AppEnv {
  Bindings: Env
  Variables: { limits: Limits }
}
