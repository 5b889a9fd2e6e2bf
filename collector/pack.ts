// `dnsbundle pack <dir> -o bundle.zip`: zips a folder of evidence into a bundle. When the folder
// has no manifest.json, one is written that records each file's detected kind, so the bundle
// says what it holds even to tools that do not detect content.
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { zipSync, type Zippable } from 'fflate'
import { detectImporter, SNIFF_BYTES } from '../core/importers/index.js'
import { isGzip, gunzipBounded } from '../core/bundle/decode.js'
import { MANIFEST_SCHEMA } from '../core/bundle/manifest.js'
import type { Manifest } from '../core/model/bundle.js'
import { VERSION } from './version.js'

export interface PackResult {
  files: number
  bytes: number
  manifestWritten: boolean
}

/** Packs `dir` into a zip at `out`. `now` is passed in so the manifest's time is the caller's. */
export function pack(dir: string, out: string, now: Date = new Date()): PackResult {
  const entries: Zippable = {}
  const paths: string[] = []
  let bytes = 0
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const full = join(d, name)
      const st = statSync(full)
      if (st.isDirectory()) walk(full)
      else if (st.isFile()) {
        const rel = relative(dir, full).split('\\').join('/')
        const data = readFileSync(full)
        bytes += data.length
        // Captures and dnstap are already dense; store them, deflate the text.
        entries[rel] = [data, { level: looksCompressed(data) ? 0 : 6 }]
        paths.push(rel)
      }
    }
  }
  walk(dir)
  let manifestWritten = false
  if (!paths.includes('manifest.json')) {
    const manifest: Manifest = {
      schema: MANIFEST_SCHEMA,
      collectedBy: { name: 'dnsbundle pack', version: VERSION },
      collectedAt: now.toISOString(),
      files: paths.map((p) => {
        const data = (entries[p] as [Uint8Array, unknown])[0]
        const head = isGzip(data)
          ? gunzipBounded(data.subarray(0, 1 << 20), SNIFF_BYTES).bytes
          : data
        const found = detectImporter(head.subarray(0, SNIFF_BYTES), p)
        return {
          path: p,
          kind: found.importer ? found.importer.id : 'unknown',
          vantage: { id: p, type: 'unknown' },
        }
      }),
    }
    entries['manifest.json'] = new TextEncoder().encode(JSON.stringify(manifest, null, 2) + '\n')
    manifestWritten = true
  }
  writeFileSync(out, zipSync(entries))
  return { files: paths.length, bytes, manifestWritten }
}

function looksCompressed(data: Uint8Array): boolean {
  return isGzip(data) || (data[0] === 0x50 && data[1] === 0x4b)
}
