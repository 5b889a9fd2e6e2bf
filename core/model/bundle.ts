// A bundle: the files of one incident, with an optional manifest.json (dnsbundle.manifest/v1).

export type VantageType = 'pod' | 'node' | 'dns-server' | 'upstream' | 'unknown'

/** A place where evidence was recorded. */
export interface Vantage {
  id: string
  type: VantageType
  name: string
  /** The node it lives on, when known. */
  node?: string
  addresses: string[]
}

/** One file's entry in manifest.json. */
export interface ManifestFile {
  path: string
  /** Importer id, for example `pcap`, `dnstap`, `coredns-log`. A hint: content detection wins. */
  kind?: string
  vantage?: Partial<Vantage> & { id?: string }
  /** ISO 8601 times of the window the file covers. */
  window?: { start?: string; end?: string }
  /** What the collector ran to produce the file. */
  command?: string
}

/** manifest.json, version 1. Everything in it is optional: without it all is inferred. */
export interface Manifest {
  schema: 'dnsbundle.manifest/v1'
  collectedBy?: { name: string; version: string; user?: string; host?: string }
  collectedAt?: string
  cluster?: {
    name?: string
    /** The cluster DNS Service IPs (kube-dns ClusterIP). */
    dnsServiceIps?: string[]
    /** Endpoint (CoreDNS pod) addresses behind the Service. */
    dnsEndpoints?: string[]
    kubeProxyMode?: string
  }
  files: ManifestFile[]
  /** Whatever the collector could not gather, and why. */
  notes?: string[]
}

/** A file handed to the analysis, already read into memory by the edge. */
export interface BundleFile {
  /** Path inside the bundle (or as given on the command line). Display only: never used as a path. */
  path: string
  bytes: Uint8Array
}

/** What an edge hands to analyzeBundle. */
export interface Bundle {
  files: BundleFile[]
  manifest?: Manifest
  /** Entries dropped before analysis (zip limits, unreadable files), with the reason. */
  skipped: { path: string; reason: string }[]
}
