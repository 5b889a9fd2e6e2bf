// The contract every importer implements: sniff answers "is this mine", parse decodes it.
import type { Event } from '../model/event.js'
import type { Vantage } from '../model/bundle.js'
import type { DnsTable } from '../model/dns-table.js'

/** A problem found while reading an input: where (line 12, packet 7, frame 3, byte 4096) and what. */
export interface Problem {
  where: string
  message: string
}

/** One file ready for an importer. */
export interface ImportInput {
  /** Index of this input in the analysis; importers copy it into every event's `input`. */
  index: number
  /** Display name. Never opened as a path. */
  path: string
  /** The decoded bytes (gzip already removed). */
  bytes: Uint8Array
  /** Default vantage id for events from this input. */
  vantage: string
}

export interface ImportContext {
  /** UDP/TCP ports that carry DNS (53 by default). */
  dnsPorts: ReadonlySet<number>
  /** Called now and then with bytes consumed, for progress bars. */
  onProgress?: (done: number, total: number) => void
  /**
   * Where DNS messages go when the pipeline stores them by column. Importers that can write rows
   * (captures) append to it and leave those messages out of `events`; the others return objects.
   */
  dns?: DnsTable
}

export interface ImportResult {
  events: Event[]
  problems: Problem[]
  /** Vantage points the input names itself (a dnstap identity, a log's pod name). */
  vantages?: Vantage[]
  /** `inputs[].events` in the report: what this input counts as its events (default events.length). */
  eventCount?: number
}

export interface Importer {
  /** Stable id; also the `kind` in the report and the manifest. */
  id: string
  /** Human name of the format. */
  title: string
  /** True when the content is recognised by magic bytes (checked before the manifest's hint). */
  binary: boolean
  /** Is this mine? `head` is the first up to 64 KiB of the decoded file; `name` is only a hint. */
  sniff(head: Uint8Array, name: string): boolean
  /** Decode. Line formats skip bad lines; binary formats stop at the first undecodable record. */
  parse(input: ImportInput, ctx: ImportContext): ImportResult
}
