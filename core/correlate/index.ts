// The correlator: normalized events in, transactions, lookups and forwarder hops out.
import type { Manifest, Vantage } from '../model/bundle.js'
import type { DnsMessageEvent, DropEvent, FactEvent } from '../model/event.js'
import type { Correlation } from './types.js'

export interface CorrelateInput {
  dns: DnsMessageEvent[]
  drops: DropEvent[]
  facts: FactEvent[]
  manifest?: Manifest
  vantages: Map<string, Vantage>
}

export function correlate(_input: CorrelateInput): Correlation {
  return { transactions: [], lookups: [], forwarder: [], dnsServers: new Set(), natPairs: new Map() }
}
