// The one normalized event model every importer feeds and every later stage reads.
// Times are integer microseconds since the Unix epoch (NaN when the source has no clock).
// Every event points back at its evidence: input index, a 1-based record number (packet, line
// or dnstap frame) and a byte offset in the decoded file (-1 where a byte offset means nothing).

/** Fields shared by every event: where it came from and when. */
export interface EventBase {
  /** Index of the input file in the analysis (Report.inputs[input]). */
  input: number
  /** 1-based packet number, line number or dnstap frame number in that input. */
  ref: number
  /** Byte offset of the record in the decoded input, or -1. */
  offset: number
  /** Vantage id; importers may leave '' and the pipeline fills in the input's vantage. */
  vantage: string
  /** Microseconds since the epoch, NaN when the source carries no time (an untimed log line). */
  time: number
  /**
   * The record's wall-clock time as printed when it cannot be made absolute (time is then NaN):
   * a time of day without a date ('15:06:24'), a syslog stamp without a year ('Feb 23 16:44:36'),
   * a local time without a zone ('2024-08-16T10:01:02.123'). In the node's local time zone.
   * The correlator can anchor it with a timed event of the same vantage (see README).
   */
  clock?: string
  /** Monotonic time since the node booted, in µs (dmesg `[123.456789]`, bpf ktime), when printed. */
  sinceBootUs?: number
}

export type Transport = 'udp' | 'tcp' | 'tls' | 'https' | 'quic' | 'unknown'

/** Where a DNS message was observed. */
export type DnsSource = 'capture' | 'dnstap' | 'log'

/**
 * One DNS message seen at one vantage point: a packet in a capture, a dnstap message or a
 * CoreDNS log line (a log line is a query and its response in one; see `durationUs`).
 */
export interface DnsMessageEvent extends EventBase {
  kind: 'dns'
  source: DnsSource
  /** dnstap Message.Type name (CLIENT_QUERY, FORWARDER_RESPONSE, ...) when source is dnstap. */
  dnstapType?: string
  transport: Transport
  /** Sender of this message. '' when unknown (dnstap without addresses). */
  srcAddr: string
  srcPort: number
  /** Receiver of this message. '' when unknown (a CoreDNS log line names only the client). */
  dstAddr: string
  dstPort: number
  /** DNS header id. */
  id: number
  /** true for a response. A log line is emitted as a response (it is written on reply). */
  qr: boolean
  opcode: number
  /** Header rcode (0..15), or -1 when the source says none was sent (CoreDNS `-`). */
  rcode: number
  /** The 16-bit header flags word as on the wire (QR, opcode, AA, TC, RD, RA, Z, AD, CD, rcode). */
  flags: number
  /** Lower-cased presentation-format name with a trailing dot; non-printables escaped (\DDD). */
  qname: string
  qtype: number
  qclass: number
  ancount: number
  /** A/AAAA records in the answer section whose type equals qtype; -1 when not decoded. */
  answerAddrs: number
  /** Message size in bytes (wire length, or what the log says). */
  size: number
  /** Server-side duration in µs (CoreDNS log lines); the query arrived at time - durationUs. */
  durationUs?: number
  /** The message could only be decoded in part; says what was wrong. */
  malformed?: string
  /**
   * Captures only: this very packet is already in the same file, seen a moment earlier on another
   * interface or in the other direction (`tcpdump -i any` on a host that forwards it, before and
   * after DNAT): the `ref` of that first copy. Not a retransmit, not a second send.
   */
  copyOf?: number
}

/** A log line that is not a query: errors, warnings, plugin messages, panics. */
export interface LogEvent extends EventBase {
  kind: 'log'
  level: 'debug' | 'info' | 'warning' | 'error' | 'fatal' | 'panic'
  /** CoreDNS plugin name (errors, kubernetes, reload, ...) or subsystem (kernel). */
  plugin: string
  message: string
}

/** A packet the kernel dropped (bpftrace, pwru, nettrace, BCC tcpdrop). */
export interface DropEvent extends EventBase {
  kind: 'drop'
  protocol: 'udp' | 'tcp' | 'icmp' | 'unknown'
  srcAddr: string
  srcPort: number
  dstAddr: string
  dstPort: number
  /** Kernel function where the drop was seen (ipt_do_table, ip_vs_remote_request4, ...). */
  func: string
  /** skb drop reason (NETFILTER_DROP, NO_SOCKET, SOCKET_RCVBUFF, QDISC_DROP, ...) or ''. */
  reason: string
  tool: string
  /** Task that was current when the kernel freed the packet (often a softirq: swapper, ksoftirqd). */
  pid?: number
  comm?: string
  /** Kernel stack at the drop, innermost frame first, `symbol+0xoff` as printed. */
  stack?: string[]
  /** Functions the same skb went through before the drop, oldest first (pwru). */
  path?: string[]
  /** Other columns the tool printed (skb, netns, iface, state, flags, mark, ...), as text. */
  details?: Record<string, string>
}

/** One application name lookup timed by gethostlatency (BCC or bpftrace). */
export interface HostLookupEvent extends EventBase {
  kind: 'host-lookup'
  pid: number
  comm: string
  host: string
  latencyUs: number
}

/** One Prometheus sample, with CoreDNS names normalized across versions. */
export interface MetricEvent extends EventBase {
  kind: 'metric'
  /** Normalized metric name (current CoreDNS naming). */
  name: string
  /** The name as written in the file, when it differs from `name`. */
  originalName?: string
  labels: Record<string, string>
  value: number
  /** Prometheus TYPE of the family: counter, gauge, histogram, summary, untyped. */
  type: string
}

/** A fact about a node or a DNS server's configuration. */
export interface FactEvent extends EventBase {
  kind: 'fact'
  fact: NodeFact
}

export type NodeFact =
  | { type: 'kernel'; release: string; hostname?: string; machine?: string }
  | { type: 'conntrack-stats'; perCpu: Record<string, number>[]; totals: Record<string, number> }
  | { type: 'conntrack-count'; count?: number; max?: number }
  | { type: 'conntrack-table-full'; line: string }
  | {
      type: 'ipvs-service'
      protocol: string
      vip: string
      port: number
      scheduler: string
      realServers: {
        addr: string
        port: number
        weight: number
        activeConn: number
        inactConn: number
      }[]
    }
  | {
      type: 'ipvs-connection'
      protocol: string
      expireSec: number
      state: string
      source: string
      virtual: string
      destination: string
    }
  | { type: 'kube-proxy-mode'; mode: 'iptables' | 'ipvs' | 'nftables' | 'userspace' | string }
  | {
      type: 'resolv-conf'
      nameservers: string[]
      search: string[]
      ndots: number
      timeout: number
      attempts: number
      options: string[]
    }
  | { type: 'corefile'; servers: CorefileServer[] }
  | { type: 'coredns-version'; version: string }
  | { type: 'cpu-limit'; container: string; millicores: number }
  | {
      type: 'conntrack-entry'
      protocol: string
      state: string
      src: string
      dst: string
      sport: number
      dport: number
      replySrc: string
      unreplied: boolean
      replySport?: number
      timeoutSec?: number
      assured?: boolean
    }

export interface CorefileServer {
  zones: string[]
  /** NaN when the key names the port with an environment variable ({$PORT}). */
  port: number
  /** Transport scheme of the server key when not plain dns:// (tls, https, grpc, quic). */
  scheme?: string
  plugins: { name: string; args: string[]; block: { name: string; args: string[] }[] }[]
}

/** The tagged union of everything an importer can emit. */
export type Event =
  DnsMessageEvent | LogEvent | DropEvent | HostLookupEvent | MetricEvent | FactEvent
