// Several inputs at once (zips, folders, loose files) become one bundle: what the CLI gets on its
// command line and the web app gets dropped on it.
import type { Bundle } from '../model/bundle.js'

/** Prefixes every path of a bundle (`name.zip:`), so entries of two zips cannot collide. */
export function prefixBundle(b: Bundle, prefix: string): Bundle {
  return {
    files: b.files.map((f) => ({ ...f, path: prefix + f.path })),
    skipped: b.skipped.map((s) => ({ ...s, path: prefix + s.path })),
    manifest: b.manifest && {
      ...b.manifest,
      files: b.manifest.files.map((f) => ({ ...f, path: prefix + f.path })),
    },
  }
}

/** One bundle from several: files and skips concatenated, the manifests' file lists merged. */
export function mergeBundles(bundles: readonly Bundle[]): Bundle {
  const manifests = bundles.flatMap((b) => (b.manifest ? [b.manifest] : []))
  return {
    files: bundles.flatMap((b) => b.files),
    skipped: bundles.flatMap((b) => b.skipped),
    manifest: manifests.length
      ? { ...manifests[0], files: manifests.flatMap((m) => m.files) }
      : undefined,
  }
}
