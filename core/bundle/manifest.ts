// manifest.json, schema dnsbundle.manifest/v1 (README "Bundle manifest"). Validated by hand:
// a bad manifest is reported and ignored, and the bundle is still analyzed from content.
import type { Manifest, ManifestFile, VantageType } from '../model/bundle.js'

export const MANIFEST_SCHEMA = 'dnsbundle.manifest/v1'
const VANTAGE_TYPES: VantageType[] = ['pod', 'node', 'dns-server', 'upstream', 'unknown']

export function parseManifest(bytes: Uint8Array): { manifest: Manifest } | { error: string } {
  let raw: unknown
  try {
    raw = JSON.parse(new TextDecoder().decode(bytes))
  } catch (e) {
    return { error: `manifest.json is not valid JSON (${(e as Error).message}); ignored` }
  }
  if (!isObject(raw)) return { error: 'manifest.json is not a JSON object; ignored' }
  if (raw.schema !== MANIFEST_SCHEMA)
    return {
      error: `manifest.json schema is ${JSON.stringify(raw.schema)}, expected ${MANIFEST_SCHEMA}; ignored`,
    }
  if (!Array.isArray(raw.files)) return { error: 'manifest.json has no "files" array; ignored' }
  const files: ManifestFile[] = []
  for (const f of raw.files) {
    if (!isObject(f) || typeof f.path !== 'string') continue
    const entry: ManifestFile = { path: f.path }
    if (typeof f.kind === 'string') entry.kind = f.kind
    if (typeof f.command === 'string') entry.command = f.command
    if (isObject(f.window)) entry.window = { start: str(f.window.start), end: str(f.window.end) }
    if (isObject(f.vantage)) {
      const v = f.vantage
      entry.vantage = {
        id: str(v.id),
        type: VANTAGE_TYPES.includes(v.type as VantageType) ? (v.type as VantageType) : undefined,
        name: str(v.name),
        node: str(v.node),
        addresses: Array.isArray(v.addresses)
          ? v.addresses.filter((a) => typeof a === 'string')
          : undefined,
      }
    }
    files.push(entry)
  }
  const m: Manifest = { schema: MANIFEST_SCHEMA, files }
  if (isObject(raw.collectedBy) && typeof raw.collectedBy.name === 'string')
    m.collectedBy = {
      name: raw.collectedBy.name,
      version: str(raw.collectedBy.version) ?? '',
      user: str(raw.collectedBy.user),
      host: str(raw.collectedBy.host),
    }
  if (typeof raw.collectedAt === 'string') m.collectedAt = raw.collectedAt
  if (isObject(raw.cluster)) {
    const c = raw.cluster
    m.cluster = {
      name: str(c.name),
      dnsServiceIps: strings(c.dnsServiceIps),
      dnsEndpoints: strings(c.dnsEndpoints),
      kubeProxyMode: str(c.kubeProxyMode),
    }
  }
  if (Array.isArray(raw.notes))
    m.notes = raw.notes.filter((n): n is string => typeof n === 'string')
  return { manifest: m }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined
}
function strings(v: unknown): string[] | undefined {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined
}
