// The importer registry and content detection: magic bytes first, then the manifest's hint,
// then a text sniff of the head. A file name is never enough on its own.
import type { Importer } from './importer.js'
import { pcapImporter } from './pcap.js'
import { pcapngImporter } from './pcapng.js'

/** Binary formats first (checked by magic bytes), then text formats, most specific first. */
export const importers: readonly Importer[] = [pcapImporter, pcapngImporter]

/** How many bytes of a file detection looks at. */
export const SNIFF_BYTES = 64 * 1024

/** Picks the importer for a file, or null with the reason it was not recognised. */
export function detectImporter(
  head: Uint8Array,
  name: string,
  hint?: string,
): { importer: Importer } | { importer: null; reason: string } {
  for (const imp of importers) if (imp.binary && imp.sniff(head, name)) return { importer: imp }
  if (hint) {
    const hinted = importers.find((imp) => imp.id === hint && !imp.binary)
    if (hinted && hinted.sniff(head, name)) return { importer: hinted }
  }
  for (const imp of importers) if (!imp.binary && imp.sniff(head, name)) return { importer: imp }
  return { importer: null, reason: describeUnknown(head) }
}

function describeUnknown(head: Uint8Array): string {
  if (head.length === 0) return 'empty file'
  let printable = 0
  const n = Math.min(head.length, 512)
  for (let i = 0; i < n; i++) {
    const b = head[i]
    if (b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127) || b >= 0xc0) printable++
  }
  const magic = Array.from(head.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ')
  return printable / n > 0.9
    ? 'unrecognised text format (no known header or line pattern in the first lines)'
    : `unrecognised binary format (magic ${magic})`
}
