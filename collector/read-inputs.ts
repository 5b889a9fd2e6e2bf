// Turns command-line paths (a .zip bundle, a folder, loose files) into a Bundle for the core.
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join, relative, basename } from 'node:path'
import type { Bundle, BundleFile } from '../core/model/bundle.js'
import { DEFAULT_ZIP_LIMITS, isZip, openZip, withManifest } from '../core/bundle/zip.js'
import { mergeBundles, prefixBundle } from '../core/bundle/merge.js'
import { nodeInflateRaw } from './inflate.js'

/** Reads every path; a path that cannot be read is recorded in `skipped`, never thrown. */
export function readInputs(paths: string[]): Bundle {
  const files: BundleFile[] = []
  const skipped: Bundle['skipped'] = []
  const bundles: Bundle[] = []
  for (const p of paths) {
    let st
    try {
      st = statSync(p)
    } catch (e) {
      skipped.push({
        path: p,
        reason: `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      })
      continue
    }
    if (st.isDirectory()) {
      const dirFiles: BundleFile[] = []
      walk(p, (file) => {
        try {
          dirFiles.push({
            path: relative(p, file).split('\\').join('/'),
            bytes: readFileSync(file),
          })
        } catch (e) {
          skipped.push({ path: file, reason: `cannot read: ${(e as Error).message}` })
        }
      })
      bundles.push(withManifest(dirFiles))
      continue
    }
    let bytes: Uint8Array
    try {
      bytes = readFileSync(p)
    } catch (e) {
      skipped.push({ path: p, reason: `cannot read: ${(e as Error).message}` })
      continue
    }
    if (isZip(bytes)) {
      const b = openZip(bytes, DEFAULT_ZIP_LIMITS, nodeInflateRaw)
      bundles.push(paths.length > 1 ? prefixBundle(b, basename(p) + ':') : b)
    } else files.push({ path: p, bytes })
  }
  // Several inputs on one command line: their files and manifests are merged.
  return mergeBundles([...bundles, withManifest(files), { files: [], skipped }])
}

function walk(dir: string, visit: (file: string) => void): void {
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name)
    const st = statSync(full, { throwIfNoEntry: false })
    if (!st) continue
    if (st.isDirectory()) walk(full, visit)
    else if (st.isFile()) visit(full)
  }
}
