// Accumulates collected files and their manifest entries, then writes the bundle zip.
import { writeFileSync } from 'node:fs'
import { zipSync, type Zippable } from 'fflate'
import type { Manifest, ManifestFile } from '../../core/model/bundle.js'
import { MANIFEST_SCHEMA } from '../../core/bundle/manifest.js'
import { VERSION } from '../version.js'

export class BundleWriter {
  private readonly entries: Zippable = {}
  readonly manifest: Manifest

  constructor(collectedAt: Date, user?: string, host?: string) {
    this.manifest = {
      schema: MANIFEST_SCHEMA,
      collectedBy: { name: 'dnsbundle collect', version: VERSION, user, host },
      collectedAt: collectedAt.toISOString(),
      files: [],
      notes: [],
    }
  }

  /** Adds a file; its path is made safe and unique inside the bundle. */
  add(path: string, data: string | Uint8Array, entry: Omit<ManifestFile, 'path'>): string {
    let safe = path
      .replace(/[^A-Za-z0-9._/-]/g, '_')
      .replace(/\.\.+/g, '.')
      .replace(/^\/+/, '')
    for (let i = 2; safe in this.entries; i++) safe = safe.replace(/(\.[^./]+)?$/, `-${i}$1`)
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data
    this.entries[safe] = [
      bytes,
      { level: entry.kind === 'pcap' || entry.kind === 'dnstap' ? 0 : 6 },
    ]
    this.manifest.files.push({ path: safe, ...entry })
    return safe
  }

  /** Records something that could not be collected, and why. */
  note(message: string): void {
    this.manifest.notes!.push(message)
  }

  get fileCount(): number {
    return this.manifest.files.length
  }

  write(out: string): void {
    this.entries['manifest.json'] = new TextEncoder().encode(
      JSON.stringify(this.manifest, null, 2) + '\n',
    )
    writeFileSync(out, zipSync(this.entries))
  }
}
