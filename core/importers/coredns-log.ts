// CoreDNS `log` plugin lines and the rest of a CoreDNS pod's output, every generation: the current
// format is plugin/log/README.md "{remote}:{port} - {>id} \"{type} {class} {name} {proto} {size}
// {>do} {>bufsize}\" {rcode} {>rflags} {rsize} {duration}" (coredns/coredns v1.14); older forms
// are known from the lines pasted in issues (shared/corpus/coredns-log/SOURCES.md).
//
// A query line is written when the response is sent, so it becomes one response event whose
// `time` is the log time and whose query arrived at time - durationUs. The outermost timestamp
// wins (kubelet/CRI stamps have ns precision; CoreDNS's own has ms). Go-log stamps
// (`2017/02/06 21:17:17`) carry no zone and are read as UTC; syslog and klog stamps carry no
// year and give no time. A line without a usable stamp keeps time NaN (untimed).
import type { DnsMessageEvent, Event, LogEvent, Transport } from '../model/event.js'
import type { DnsTable } from '../model/dns-table.js'
import type { ImportContext, Importer, ImportInput, ImportResult, Problem } from './importer.js'
import { FLAG, qtypeNumber, rcodeNumber } from '../codec/dns-constants.js'

type Level = LogEvent['level']

const MAX_LINE = 16 * 1024
const MAX_PROBLEMS = 200

// --- prefixes, peeled off left to right -------------------------------------------------------
// 2019-08-19T21:21:43.1742448Z 2019-08-19T21:21:43.173Z [INFO] CoreDNS-1.6.2
const RFC3339 = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?(Z|[+-]\d\d:?\d\d) +/
// 2016-10-06T00:17:09.669794202Z stdout P First line of log entry 2   (kubelet CRI log format;
// P = partial, continued by the next line of the stream; F = full)
const CRI_STREAM = /^(stdout|stderr) ([FP]) ?/
// 2017/02/06 21:17:17 [INFO] CoreDNS-004
const GO_LOG = /^(\d{4})\/(\d\d)\/(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))? +/
// 29/Nov/2017:23:16:11 +0000 [ERROR 0 kubernetes.cluster.local. A] invalid query name
const APACHE = /^(\d\d)\/([A-Z][a-z]{2})\/(\d{4}):(\d\d):(\d\d):(\d\d) ([+-]\d{4})/
// [pod/coredns-5d78c9869d-x2x5k/coredns] [INFO] plugin/reload: ...   (kubectl logs --prefix)
const KUBECTL_PREFIX = /^\[pod\/[^\]\s]+\] +/
// node-cache [INFO] x.x.x.x:56799 - 51264 "A IN example.com.ec2.internal. udp 52 false 512" NXDOMAIN …
// (a container name, or stern's "pod container", in front of the level tag)
const CONTAINER_PREFIX =
  /^[a-z0-9][\w.-]*(?: [a-z0-9][\w.-]*)? (?=\[(?:INFO|ERROR|WARNING|WARN|DEBUG|FATAL|PANIC)\] )/
// Jul 31 17:35:53 infra-02 coredns: panic: runtime error: invalid memory address
const SYSLOG = /^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ [\w.\/-]+(?:\[\d+\])?: +/
// ==> coredns [fbe146f4b023] <==
const MINIKUBE_HEADER = /^==> (.+?) <==$/
// │ [INFO] 169.254.20.25:59384 - 35974 "HINFO IN 674….5931735662964552412. udp 57 false 512" ... │
const K9S_BORDER = /^│ ?|\s*│$/g

// --- bodies -------------------------------------------------------------------------------------
// [INFO] 10.244.0.130:37900 - 31448 "A IN servera.svc.cluster.local. udp 75 false 512" NXDOMAIN qr,aa,rd 168 0.000102235s
// 192.168.2.14:33615 - [11/Jan/2019:19:59:01 +0000] 14 "A IN kubernetes.default. udp 36 false 512" NXDOMAIN qr,rd,ra 112 0.001532826s
// 10.2.6.75 - [06/Feb/2017:21:18:44 +0000] "A IN kubernetes.default.svc.cluster.local. udp 54 false 512" NOERROR 70 981.518µs
// [INFO] 172.30.32.1:35887 - 59952 "AAAA IN cognito-idp.us-east-1.amazonaws.com. udp 53 false 512" - - 0 6.002435968s
const QUERY =
  /^(\S+) - (?:\[([^\]]+)\] )?(?:(\d+|-) )?"(\S+) (\S+) (\S+) (\S+) (\d+) (\S+) (\d+)" (\S+) (?:(\S+) )?(\d+) (\S+)(?: "(\w+)")?$/
// [INFO] 10.0.0.1:5353 - 4711 "A IN …     (anything that starts like a query line)
const QUERY_START = /^\S+ - (?:\[[^\]]*\] )?(?:(?:\d+|-) )?"/
// [ERROR] plugin/errors: 2 example.com. A: read udp 10.0.0.1:4444->8.8.8.8:53: i/o timeout
const LEVEL = /^\[(INFO|ERROR|WARNING|WARN|DEBUG|FATAL|PANIC)\] ?/
// plugin/kubernetes: pkg/mod/k8s.io/client-go@v0.20.2/tools/cache/reflector.go:167: Failed to watch ...
const PLUGIN = /^plugin\/([\w-]+): ?/
// [ERROR 0 kubernetes.monitoring.svc.cluster.local. A] no items found      (CoreDNS 006)
// [PANIC foo.test.local. A] coredns/vendor/github.com/miekg/dns/ztypes.go:539 - runtime error: …  (007)
const OLD_ERROR = /^\[(ERROR|PANIC) (?:(\d+) )?(\S+) (\S+)\] ?(.*)$/
// E0225 14:25:57.689877       1 reflector.go:138] pkg/mod/k8s.io/client-go@v0.20.2/tools/cache/reflector.go:167: Failed to watch *v1beta1.EndpointSlice: ...
const KLOG = /^([IWEF])\d{4} \d\d:\d\d:\d\d\.\d{6}\s+\d+ [^\]\s]+\] ?(.*)$/
// CoreDNS-1.8.6      (banner; also CoreDNS-004)
const BANNER_VERSION = /^CoreDNS-(\d[\w.+-]*)$/
// linux/amd64, go1.17.1, 13a9191      (the commit may be empty: "linux/amd64, go1.15.5,")
const BANNER_PLATFORM = /^[a-z0-9]+\/[a-z0-9_]+, go[\w.]+,(?: \S*)?$/
// .:53   cluster.local:53   :1053   in-addr.arpa:53      (server blocks listed at start-up)
const BANNER_SERVER = /^(?:[a-z]+:\/\/)?[\w.*-]*:\d{1,5}$/
// panic: runtime error: invalid memory address or nil pointer dereference
const PANIC = /^panic: (.*)$/
// [signal SIGSEGV: …]  goroutine 55 [running]:  created by …  \t/go/src/…/server.go:247 +0x884
// github.com/coredns/coredns/core/dnsserver.(*Server).ServeDNS(0xc000438f60, …)
const STACK =
  /^(?:\[signal |goroutine \d+ \[|created by |\S+\.go:\d+(?: \+0x[0-9a-f]+)?,?$|<autogenerated>:\d+|[\w.\/@-]+\.[\w().*\/-]*\(.*\),?$|\.\.\.additional frames)/
// \033[31m  (a terminal colour code left in a pasted log)
const ANSI = /\x1b\[[0-9;]*m/g

const MONTHS: Record<string, number> = {
  Jan: 0,
  Feb: 1,
  Mar: 2,
  Apr: 3,
  May: 4,
  Jun: 5,
  Jul: 6,
  Aug: 7,
  Sep: 8,
  Oct: 9,
  Nov: 10,
  Dec: 11,
}
const LEVELS: Record<string, Level> = {
  INFO: 'info',
  ERROR: 'error',
  WARNING: 'warning',
  WARN: 'warning',
  DEBUG: 'debug',
  FATAL: 'fatal',
  PANIC: 'panic',
  I: 'info',
  W: 'warning',
  E: 'error',
  F: 'fatal',
}
const CLASSES: Record<string, number> = { IN: 1, CH: 3, CHAOS: 3, HS: 4, NONE: 254, ANY: 255 }
const OPCODES: Record<string, number> = { QUERY: 0, IQUERY: 1, STATUS: 2, NOTIFY: 4, UPDATE: 5 }
const RFLAGS: Record<string, number> = {
  qr: FLAG.QR,
  aa: FLAG.AA,
  tc: FLAG.TC,
  rd: FLAG.RD,
  ra: FLAG.RA,
  z: FLAG.Z,
  ad: FLAG.AD,
  cd: FLAG.CD,
}

/** What the prefixes of a line said. */
interface Prefix {
  body: string
  time: number
  /** CRI partial-line tag (`P`): the text continues on the next line of the same stream. */
  partial: boolean
}

/** Peels timestamps and wrappers (kubectl, CRI, Go log, syslog, k9s, backticks) off a line. */
export function peelPrefixes(raw: string): Prefix {
  let s = raw
  if (s.charCodeAt(0) === 0x2502 || s.endsWith('│')) s = s.replace(K9S_BORDER, '')
  if (s.includes('\x1b')) s = s.replace(ANSI, '')
  if (s.charCodeAt(0) === 0x60 || s.charCodeAt(s.length - 1) === 0x60)
    s = s.replace(/^`+|`+$/g, '').trim()
  let time = NaN
  let partial = false
  for (let guard = 0; guard < 4; guard++) {
    let m: RegExpExecArray | null
    if ((m = RFC3339.exec(s))) {
      if (Number.isNaN(time)) time = isoMicros(m)
      s = s.slice(m[0].length)
      const cri = CRI_STREAM.exec(s)
      if (cri) {
        partial = cri[2] === 'P'
        s = s.slice(cri[0].length)
      }
    } else if ((m = GO_LOG.exec(s))) {
      if (Number.isNaN(time)) time = goLogMicros(m)
      s = s.slice(m[0].length)
    } else if ((m = APACHE.exec(s)) && s[m[0].length] === ' ') {
      if (Number.isNaN(time)) time = apacheMicros(m)
      s = s.slice(m[0].length + 1)
    } else if (
      (m = KUBECTL_PREFIX.exec(s)) ||
      (m = SYSLOG.exec(s)) ||
      (m = CONTAINER_PREFIX.exec(s))
    ) {
      s = s.slice(m[0].length)
    } else break
  }
  return { body: s, time, partial }
}

// Consecutive lines mostly share their second: remember the last one (Date.UTC is not free).
let lastSecond = ''
let lastSecondMs = 0

function isoMicros(m: RegExpExecArray): number {
  const second = m[0].slice(0, 19)
  let ms: number
  if (second === lastSecond) ms = lastSecondMs
  else {
    ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])
    lastSecond = second
    lastSecondMs = ms
  }
  const frac = m[7] ? Math.round(Number(m[7].padEnd(9, '0')) / 1000) : 0
  const z = m[8]
  let offsetMin = 0
  if (z !== 'Z') {
    const digits = z.replace(':', '')
    offsetMin =
      (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5))) * (z[0] === '-' ? -1 : 1)
  }
  return (ms - offsetMin * 60_000) * 1000 + frac
}

function goLogMicros(m: RegExpExecArray): number {
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])
  return ms * 1000 + (m[7] ? Number((m[7] + '00000').slice(0, 6)) : 0)
}

function apacheMicros(m: RegExpExecArray | string[]): number {
  const month = MONTHS[m[2]]
  if (month === undefined) return NaN
  const ms = Date.UTC(+m[3], month, +m[1], +m[4], +m[5], +m[6])
  const z = m[7]
  const offsetMin = (Number(z.slice(1, 3)) * 60 + Number(z.slice(3, 5))) * (z[0] === '-' ? -1 : 1)
  return (ms - offsetMin * 60_000) * 1000
}

// 0.000102235s      (the common case, seconds with a fraction)
const PLAIN_SECONDS = /^(\d+(?:\.\d+)?)s$/
// 1m2.5s  981.518µs  4.210922ms  172ns      (Go's time.Duration.String, one part per unit)
const DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y
const NS_PER: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 6e10,
  h: 3.6e12,
}

/** A Go time.Duration string (`0.000102235s`, `981.518µs`, `4.210922ms`, `1m2.5s`) in µs, or NaN. */
export function goDurationMicros(s: string): number {
  const plain = PLAIN_SECONDS.exec(s)
  if (plain) return Math.round(Number(plain[1]) * 1e9) / 1000
  let ns = 0
  let at = 0
  DURATION_PART.lastIndex = 0
  let m: RegExpExecArray | null
  while ((m = DURATION_PART.exec(s))) {
    ns += Math.round(Number(m[1]) * NS_PER[m[2]])
    at = DURATION_PART.lastIndex
  }
  return at === s.length && at > 0 ? ns / 1000 : NaN
}

const utf8 = new TextEncoder()

/**
 * A presentation-format name as the model wants it: lower-case ASCII, trailing dot, and every
 * byte other than a-z 0-9 - _ and harmless printable ASCII written \DDD. CoreDNS (miekg/dns)
 * escapes with \X and \DDD; those are undone first. Returns why it cannot be a DNS name.
 */
export function normalizeQname(raw: string): string | { error: string } {
  let n = raw
  if (/[A-Z]/.test(n)) n = n.toLowerCase()
  if (!n.endsWith('.')) n += '.'
  if (n.length <= 254 && /^(?:[a-z0-9_-]{1,63}\.)+$/.test(n)) return n
  if (n === '.') return n
  const labels: number[][] = [[]]
  for (let i = 0; i < n.length; i++) {
    const c = n.charCodeAt(i)
    const label = labels[labels.length - 1]
    if (c === 0x2e) {
      if (label.length === 0) return { error: 'empty label in the query name' }
      labels.push([])
    } else if (c === 0x5c && i + 1 < n.length) {
      const ddd = n.slice(i + 1, i + 4)
      if (/^\d{3}$/.test(ddd) && Number(ddd) < 256) {
        label.push(Number(ddd))
        i += 3
      } else label.push(n.charCodeAt(++i) & 0xff)
    } else if (c < 0x80) label.push(c)
    else for (const b of utf8.encode(n[i])) label.push(b)
    if (label.length > 63) return { error: 'a label of the query name is longer than 63 bytes' }
  }
  if (labels[labels.length - 1].length === 0) labels.pop() // after the final dot
  let wire = 1
  for (const l of labels) wire += l.length + 1
  if (wire > 255) return { error: `query name is ${wire} bytes on the wire, more than 255` }
  let out = ''
  for (const l of labels) {
    for (const v of l) {
      const plain = (v >= 0x61 && v <= 0x7a) || (v >= 0x30 && v <= 0x39) || v === 0x2d || v === 0x5f
      const safe = plain || (v > 0x20 && v < 0x7f && !'.\\"()@;$'.includes(String.fromCharCode(v)))
      out += safe ? String.fromCharCode(v) : '\\' + String(v).padStart(3, '0')
    }
    out += '.'
  }
  return out
}

/** Splits `{remote}:{port}`: `[::1]:53`, `10.0.0.1:53`, `x.x.x.x:56799`, or a bare address. */
function splitRemote(remote: string, hasPort: boolean): [string, number] {
  if (remote[0] === '[') {
    const close = remote.indexOf(']')
    const port = remote[close + 1] === ':' ? Number(remote.slice(close + 2)) : 0
    return [remote.slice(1, close), Number.isInteger(port) ? port : 0]
  }
  const colon = remote.lastIndexOf(':')
  const oneColon = colon > 0 && remote.indexOf(':') === colon
  if (colon > 0 && (hasPort || oneColon) && /^\d{1,5}$/.test(remote.slice(colon + 1))) {
    return [remote.slice(0, colon), Number(remote.slice(colon + 1))]
  }
  return [remote, 0]
}

/** Where and when a line was read: what every event of it carries. */
interface Base {
  input: number
  ref: number
  offset: number
  vantage: string
  time: number
}

/** Parses a query line body into an event, or returns why it is not one. */
export function parseQuery(body: string, base: Base): DnsMessageEvent | string {
  const m = QUERY.exec(body)
  if (!m) return queryFailure(body)
  const [
    ,
    remote,
    stamp,
    idText,
    typeText,
    classText,
    nameText,
    proto,
    ,
    ,
    ,
    rcodeText,
    rflags,
    rsize,
    dur,
    opcodeText,
  ] = m
  let time = base.time
  if (stamp !== undefined) {
    const a = /^(\d\d)\/([A-Z][a-z]{2})\/(\d{4}):(\d\d):(\d\d):(\d\d) ([+-]\d{4})$/.exec(stamp)
    if (!a) return `bad timestamp [${stamp}]`
    if (Number.isNaN(time)) time = apacheMicros(a)
  }
  const qtype = qtypeNumber(typeText)
  if (qtype < 0 && !UPPER_TOKEN.test(typeText)) return `query type "${cut(typeText)}" is not a type`
  const qclass =
    CLASSES[classText] ?? (/^CLASS\d{1,5}$/.test(classText) ? Number(classText.slice(5)) : -1)
  if (qclass < 0) return `query class "${cut(classText)}" is not a class`
  const qname = normalizeQname(nameText)
  if (typeof qname !== 'string') return `${qname.error} (${nameText.length} characters)`
  // rflags `-` means no reply was written (log plugin replacer's empty value); before 1.8.5 the
  // rcode still said NOERROR (coredns/coredns#4724, fixed by #4725): no reply means rcode -1.
  const noReply = rcodeText === '-' || rflags === '-'
  let rcode = -1
  if (!noReply) {
    rcode = /^\d+$/.test(rcodeText) ? Number(rcodeText) : rcodeNumber(rcodeText)
    if (rcode < 0) return `rcode "${cut(rcodeText)}" is not an rcode`
  }
  let flags = 0
  if (!noReply) {
    if (rflags === undefined)
      flags = FLAG.QR // CoreDNS-004 printed no flags; a reply has QR
    else for (const f of rflags.split(',')) flags |= RFLAGS[f] ?? 0
    flags |= rcode & 0xf
  }
  const durationUs = goDurationMicros(dur)
  if (Number.isNaN(durationUs)) return `duration "${cut(dur)}" is not a Go duration`
  const [srcAddr, srcPort] = splitRemote(remote, idText !== undefined)
  const opcode = opcodeText === undefined ? 0 : (OPCODES[opcodeText] ?? -1)
  return logMessage(
    { ...base, time },
    {
      transport: (proto === 'udp' || proto === 'tcp' ? proto : 'unknown') as Transport,
      srcAddr,
      srcPort,
      id: idText === undefined || idText === '-' ? -1 : Number(idText),
      opcode,
      rcode,
      flags,
      qname,
      qtype,
      qclass,
      size: Number(rsize),
      durationUs,
    },
  )
}
/**
 * A query line body in the current format, `{remote}:{port} - {id} "{type} IN {name} udp|tcp
 * {size} {do} {bufsize}" {rcode} {rflags} {rsize} {seconds}s`, read by walking its characters
 * once: the event parseQuery makes of it, without a regular expression, a string per field or a
 * builtin call per field. Null for a line of any other shape (an older format, IPv6, an opcode,
 * no reply, an escaped name, an unusual class or rcode, a character outside printable ASCII),
 * which parseQuery then reads: a shortcut for the common line, never a second definition.
 *
 * It reads the line's bytes s[from, to), which are the characters of `text` from `textFrom` on
 * (the line is ASCII when it reads it): a typed array costs a load per character, a slice of a
 * file's text a check of how the string is stored.
 */
export function readPlainQuery(
  s: Uint8Array,
  from: number,
  to: number,
  text: string,
  textFrom: number,
  base: Base,
): DnsMessageEvent | null {
  // Cut at single spaces into exactly 14 fields; the two quotes open the type and close the
  // bufsize; every character printable ASCII, no backslash.
  const at = FIELD_STARTS
  let fields = 0
  let quotes = 0
  at[0] = from
  for (let i = from; i < to; i++) {
    const c = s[i]
    if (c === 0x20) {
      if (i === at[fields] || ++fields === FIELDS) return null
      at[fields] = i + 1
    } else if (c < 0x21 || c > 0x7e || c === 0x5c || (c === 0x22 && ++quotes > 2)) return null
  }
  if (fields !== FIELDS - 1 || at[FIELDS - 1] === to) return null
  at[FIELDS] = to + 1
  // Where a byte's character is in `text`.
  const shift = textFrom - from
  // {remote}:{port}: one colon (IPv4 or a name), 1-5 digits after it.
  let colon = -1
  for (let i = at[0]; i < end(0); i++) {
    const c = s[i]
    if (c === 0x3a) {
      if (colon >= 0) return null
      colon = i
    } else if (c === 0x5b) return null
  }
  if (colon <= at[0] || end(0) - colon - 1 > 5) return null
  const srcPort = digitsAt(s, colon + 1, end(0))
  // - {id}
  if (srcPort < 0 || end(1) - at[1] !== 1 || s[at[1]] !== 0x2d) return null
  if (end(2) - at[2] > 5) return null
  const id = digitsAt(s, at[2], end(2))
  // "{type}: one of the line's two quotes is the field's first character.
  if (id < 0 || quotes !== 2 || s[at[3]] !== 0x22) return null
  let qtype: number
  if (isWord(s, at[3] + 1, end(3), 'A')) qtype = 1
  else if (isWord(s, at[3] + 1, end(3), 'AAAA')) qtype = 28
  else {
    const typeText = text.slice(at[3] + 1 + shift, end(3) + shift)
    if (!UPPER_TOKEN.test(typeText) || (qtype = qtypeNumber(typeText)) < 0) return null
  }
  if (!isWord(s, at[4], end(4), 'IN')) return null
  // {name}: as normalizeQname returns it when it is already lower-case and dotted, else through it.
  const nameText = text.slice(at[5] + shift, end(5) + shift)
  const qname = isPlainName(s, at[5], end(5)) ? nameText : normalizeQname(nameText)
  if (typeof qname !== 'string') return null
  let transport: Transport
  if (isWord(s, at[6], end(6), 'udp')) transport = 'udp'
  else if (isWord(s, at[6], end(6), 'tcp')) transport = 'tcp'
  else return null
  // {size} {do} {bufsize}": the other quote is the field's last character.
  if (digitsAt(s, at[7], end(7)) < 0 || s[end(9) - 1] !== 0x22) return null
  if (digitsAt(s, at[9], end(9) - 1) < 0) return null
  // {rcode}: the four a resolver mostly answers with.
  let rcode: number
  if (isWord(s, at[10], end(10), 'NOERROR')) rcode = 0
  else if (isWord(s, at[10], end(10), 'NXDOMAIN')) rcode = 3
  else if (isWord(s, at[10], end(10), 'SERVFAIL')) rcode = 2
  else if (isWord(s, at[10], end(10), 'REFUSED')) rcode = 5
  else return null
  // {rflags}: flags between commas; one RFLAGS does not know counts for nothing; `-` (no reply
  // written) takes the long way.
  if (isWord(s, at[11], end(11), '-')) return null
  let flags = 0
  for (let a = at[11]; a <= end(11);) {
    let b = a
    while (b < end(11) && s[b] !== 0x2c) b++
    flags |= flagOf(s, a, b)
    a = b + 1
  }
  flags |= rcode & 0xf
  // {rsize} {seconds}s, the end of the line.
  const size = digitsAt(s, at[12], end(12))
  const last = end(13) - 1
  if (size < 0 || s[last] !== 0x73 || !secondsAt(s, at[13], last)) return null
  const durationUs = Math.round(Number(text.slice(at[13] + shift, last + shift)) * 1e9) / 1000
  return logMessage(base, {
    transport,
    srcAddr: text.slice(at[0] + shift, colon + shift),
    srcPort,
    id,
    opcode: 0,
    rcode,
    flags,
    qname,
    qtype,
    qclass: 1,
    size,
    durationUs,
  })
}

/**
 * The time (µs) of an RFC 3339 stamp and the spaces after it at s[from, to), read from bytes as
 * RFC3339 and isoMicros read it from text; NaN, if it is not one. `stampEnd` is then where the
 * spaces end.
 */
export function readStamp(s: Uint8Array, from: number, to: number): number {
  // YYYY-MM-DDTHH:MM:SS
  if (to - from < 21) return NaN
  for (let i = 0; i < 19; i++) {
    const c = s[from + i]
    const want = STAMP_SHAPE.charCodeAt(i)
    if (want === 0x39 ? c < 0x30 || c > 0x39 : c !== want) return NaN
  }
  let p = from + 19
  // [.,]fraction of 1-9 digits, as nanoseconds (the digits padded to nine), rounded to µs.
  let frac = 0
  if (s[p] === 0x2e || s[p] === 0x2c) {
    let digits = 0
    let v = 0
    for (p++; p < to && s[p] >= 0x30 && s[p] <= 0x39 && digits < 9; p++, digits++)
      v = v * 10 + s[p] - 0x30
    if (digits === 0) return NaN
    frac = Math.round((v * 10 ** (9 - digits)) / 1000)
  }
  // Z, or +HH:MM / +HHMM (or -)
  let offsetMin = 0
  if (s[p] === 0x5a) p++
  else if (s[p] === 0x2b || s[p] === 0x2d) {
    const sign = s[p] === 0x2d ? -1 : 1
    const hh = twoDigits(s, p + 1)
    const colon = s[p + 3] === 0x3a ? 1 : 0
    const mm = twoDigits(s, p + 3 + colon)
    if (hh < 0 || mm < 0) return NaN
    offsetMin = (hh * 60 + mm) * sign
    p += 5 + colon
  } else return NaN
  if (s[p] !== 0x20) return NaN
  while (p < to && s[p] === 0x20) p++
  stampEnd = p
  // The second, as isoMicros keeps it: consecutive lines mostly share theirs.
  let same = true
  for (let i = 0; i < 19 && same; i++) same = s[from + i] === lastStamp[i]
  if (!same) {
    for (let i = 0; i < 19; i++) lastStamp[i] = s[from + i]
    const n = (i: number, len: number) => {
      let v = 0
      for (let k = 0; k < len; k++) v = v * 10 + s[from + i + k] - 0x30
      return v
    }
    lastStampMs = Date.UTC(n(0, 4), n(5, 2) - 1, n(8, 2), n(11, 2), n(14, 2), n(17, 2))
  }
  return (lastStampMs - offsetMin * 60_000) * 1000 + frac
}

/** Where readStamp's stamp and its spaces end. */
let stampEnd = 0
/** The second of the last stamp readStamp read, and its time in ms. */
const lastStamp = new Uint8Array(19)
let lastStampMs = 0
/** A stamp's second: 9 for a digit, else the character itself. */
const STAMP_SHAPE = '9999-99-99T99:99:99'

/** The number of the two digits at s[at], or -1. */
function twoDigits(s: Uint8Array, at: number): number {
  const a = s[at] - 0x30
  const b = s[at + 1] - 0x30
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1
}

/** The level tag of a query line. */
const INFO = '[INFO] '

/** A current query line's fields, and where each starts (reused from line to line). */
const FIELDS = 14
const FIELD_STARTS = new Int32Array(FIELDS + 1)
/** Where field f ends (its last character + 1), once FIELD_STARTS holds a line's. */
const end = (f: number): number => FIELD_STARTS[f + 1] - 1

/** A token of upper-case letters, digits and dashes (a type QTYPE may know). */
const UPPER_TOKEN = /^[A-Z][A-Z0-9-]{0,15}$/

/** Is s[from, to) the word `w`? */
function isWord(s: Uint8Array, from: number, to: number, w: string): boolean {
  if (to - from !== w.length) return false
  for (let i = 0; i < w.length; i++) if (s[from + i] !== w.charCodeAt(i)) return false
  return true
}

/**
 * Is s[from, to) a name normalizeQname returns as it is: labels of 1-63 of a-z 0-9 - _, each
 * ending with a dot, 254 characters at most?
 */
function isPlainName(s: Uint8Array, from: number, to: number): boolean {
  if (to - from > 254 || s[to - 1] !== 0x2e) return false
  let label = 0
  for (let i = from; i < to; i++) {
    const c = s[i]
    if (c === 0x2e) {
      if (label === 0) return false
      label = 0
    } else if ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f) {
      if (++label > 63) return false
    } else return false
  }
  return true
}

/** The number written in s[from, to) when it is 1-9 decimal digits, else -1. */
function digitsAt(s: Uint8Array, from: number, to: number): number {
  if (to <= from || to - from > 9) return -1
  let v = 0
  for (let i = from; i < to; i++) {
    const d = s[i] - 0x30
    if (d < 0 || d > 9) return -1
    v = v * 10 + d
  }
  return v
}

/** Is s[from, to) what PLAIN_SECONDS reads before its `s`: digits, and a fraction after a dot? */
function secondsAt(s: Uint8Array, from: number, to: number): boolean {
  let i = from
  while (i < to && s[i] >= 0x30 && s[i] <= 0x39) i++
  if (i === from) return false
  if (i === to) return true
  if (s[i] !== 0x2e || i + 1 === to) return false
  for (i++; i < to; i++) if (s[i] < 0x30 || s[i] > 0x39) return false
  return true
}

/** RFLAGS of the flag s[from, to), 0 for one it does not know. */
function flagOf(s: Uint8Array, from: number, to: number): number {
  if (to - from === 1) return s[from] === 0x7a ? FLAG.Z : 0
  if (to - from !== 2) return 0
  switch ((s[from] << 8) | s[from + 1]) {
    case 0x7172: // qr
      return FLAG.QR
    case 0x6161: // aa
      return FLAG.AA
    case 0x7463: // tc
      return FLAG.TC
    case 0x7264: // rd
      return FLAG.RD
    case 0x7261: // ra
      return FLAG.RA
    case 0x6164: // ad
      return FLAG.AD
    case 0x6364: // cd
      return FLAG.CD
    default:
      return 0
  }
}

/** What a query line says of its message. */
type LoggedMessage = Pick<
  DnsMessageEvent,
  | 'transport'
  | 'srcAddr'
  | 'srcPort'
  | 'id'
  | 'opcode'
  | 'rcode'
  | 'flags'
  | 'qname'
  | 'qtype'
  | 'qclass'
  | 'size'
> & { durationUs: number }

/** The event of a query line: a response sent to `srcAddr`, logged `durationUs` after its query. */
function logMessage(base: Base, m: LoggedMessage): DnsMessageEvent {
  return {
    kind: 'dns',
    input: base.input,
    ref: base.ref,
    offset: base.offset,
    vantage: base.vantage,
    time: base.time,
    source: 'log',
    transport: m.transport,
    srcAddr: m.srcAddr,
    srcPort: m.srcPort,
    dstAddr: '',
    dstPort: 0,
    id: m.id,
    qr: true,
    opcode: m.opcode,
    rcode: m.rcode,
    flags: m.flags,
    qname: m.qname,
    qtype: m.qtype,
    qclass: m.qclass,
    ancount: -1,
    answerAddrs: -1,
    size: m.size,
    durationUs: m.durationUs,
  }
}

/** Why a line that starts like a query line is not one. */
function queryFailure(body: string): string {
  const q1 = body.indexOf('"')
  const q2 = body.indexOf('"', q1 + 1)
  if (q2 < 0) return 'the quoted question is not closed (line cut off?)'
  const question = body.slice(q1 + 1, q2).split(' ')
  if (question.length !== 7) {
    return `the question has ${question.length} fields, want 7 (type class name proto size do bufsize)`
  }
  const after = body
    .slice(q2 + 1)
    .trim()
    .split(/\s+/)
  if (after.length < 3 || after[0] === '')
    return 'line ends before rcode, flags, size and duration (cut off?)'
  return `fields after the question do not read as "rcode flags size duration": "${cut(after.join(' '))}"`
}

function cut(s: string): string {
  return s.length > 60 ? s.slice(0, 60) + '…' : s
}

function parse(input: ImportInput, ctx: ImportContext): ImportResult {
  const reader = new LogReader(input, ctx.dns)
  reader.run()
  return reader.result()
}

/** Walks the lines once; keeps the state lines depend on (panic traces, CRI partials, wraps). */
class LogReader {
  private readonly events: Event[] = []
  private readonly problems: Problem[] = []
  private dropped = 0
  private queries = 0
  private readonly versions = new Set<string>()
  private lastPanic: LogEvent | null = null
  private stackLines = 0
  private foreignSection = ''
  /** The current line as read, for quoting in problems. */
  private raw = ''
  /** A run of lines that are not CoreDNS output, reported as one problem. */
  private foreign = { from: 0, to: 0, count: 0, first: '', binary: false }
  /** A query line cut inside its quotes: the next line may hold the rest (a wrapped paste). */
  private held: { body: string; ref: number; offset: number; time: number } | null = null
  /** CRI `P` (partial) pieces waiting for their `F` line. */
  private partial: { text: string; ref: number; offset: number; time: number } | null = null

  /** `dns`: where query lines go when the pipeline stores messages by column. */
  constructor(
    private readonly input: ImportInput,
    private readonly dns?: DnsTable,
  ) {}

  run(): void {
    const { bytes } = this.input
    // Room for a row per line at once (most lines of a big log are queries): the table's
    // columns are then not copied again and again as they grow.
    if (this.dns) {
      let lines = 0
      for (let at = bytes.indexOf(10); at >= 0; at = bytes.indexOf(10, at + 1)) lines++
      this.dns.reserve(lines + 1)
    }
    const text = new TextDecoder().decode(bytes)
    let pos = 0
    let bpos = 0
    let ref = 0
    // Lines are cut in the string and in the bytes side by side: a '\n' byte is never part of a
    // multi-byte UTF-8 sequence, so the n-th line of both is the same line and `bpos` is its offset.
    while (pos < text.length) {
      let end = text.indexOf('\n', pos)
      if (end < 0) end = text.length
      let bend = bytes.indexOf(10, bpos)
      if (bend < 0) bend = bytes.length
      ref++
      this.line(text, pos, end, ref, bpos, bend)
      pos = end + 1
      bpos = bend + 1
    }
    this.flushHeld()
    if (this.partial)
      this.problem(this.partial.ref, 'CRI partial line (P) never completed by an F line')
    this.flushRun()
  }

  private line(
    text: string,
    start: number,
    end: number,
    ref: number,
    offset: number,
    byteEnd: number,
  ): void {
    if (end - start > MAX_LINE) {
      this.flushRun()
      this.problem(
        ref,
        `line is ${end - start} characters long, too long for a CoreDNS log line; skipped`,
      )
      return
    }
    const raw = text.slice(start, end).trim()
    if (raw === '') return
    const header = MINIKUBE_HEADER.exec(raw)
    if (header) {
      this.flushRun()
      this.foreignSection = /coredns|node-cache|nodelocaldns/i.test(header[1]) ? '' : header[1]
      if (this.foreignSection) this.addForeign(ref, raw)
      return
    }
    if (this.foreignSection) return this.addForeign(ref, raw)
    if (!this.held && !this.partial && this.plainQuery(raw, start, end, ref, offset, byteEnd))
      return
    const p = peelPrefixes(raw)
    if (this.partial || p.partial) {
      if (!this.partial) this.partial = { text: '', ref, offset, time: p.time }
      this.partial.text += p.body
      if (p.partial) return
      ;({ ref, offset } = this.partial)
      p.body = this.partial.text
      p.time = this.partial.time
      this.partial = null
    }
    if (this.held) {
      const joined = parseQuery(
        this.held.body + ' ' + p.body,
        this.base(this.held.ref, this.held.offset, this.held.time),
      )
      if (typeof joined !== 'string') {
        this.held = null
        return this.addQuery(joined)
      }
      this.flushHeld()
    }
    this.raw = raw
    this.body(p.body, p.time, ref, offset)
  }

  /**
   * A query line of the current format, with or without one RFC 3339 stamp in front (kubectl
   * --timestamps), read the short way; false, having done nothing, for any other line. What it
   * reads it reads as `line` would: the same stamp, the same fields, the same event.
   */
  private plainQuery(
    raw: string,
    start: number,
    end: number,
    ref: number,
    offset: number,
    byteEnd: number,
  ): boolean {
    // Bytes and characters line up in a line of as many bytes as characters that starts with
    // its text (nothing trimmed in front): the shortcut reads bytes, and checks they are ASCII.
    const bytes = this.input.bytes
    if (byteEnd - offset !== end - start || !(bytes[offset] > 0x20)) return false
    let time = NaN
    let at = 0
    if (bytes[offset] >= 0x30 && bytes[offset] <= 0x39) {
      time = readStamp(bytes, offset, byteEnd)
      if (Number.isNaN(time)) return false
      at = stampEnd - offset
    }
    // Only `[INFO] ` may follow: another stamp, a CRI stream tag or a prefix takes the long way.
    for (let i = 0; i < INFO.length; i++)
      if (bytes[offset + at + i] !== INFO.charCodeAt(i)) return false
    at += INFO.length
    const base = this.base(ref, offset, time)
    const ev = readPlainQuery(bytes, offset + at, byteEnd, raw, at, base)
    if (!ev) return false
    this.raw = raw
    this.addQuery(ev)
    return true
  }

  private body(body: string, time: number, ref: number, offset: number): void {
    const level = LEVEL.exec(body)
    const rest = level ? body.slice(level[0].length) : body
    if (QUERY_START.test(rest)) {
      const ev = parseQuery(rest, this.base(ref, offset, time))
      if (typeof ev !== 'string') return this.addQuery(ev)
      this.flushRun()
      const quotes = rest.split('"').length - 1
      if (quotes === 1) this.held = { body: rest, ref, offset, time }
      else this.problem(ref, ev)
      return
    }
    if (level) return this.addLog(ref, offset, time, LEVELS[level[1]], rest)
    let m: RegExpExecArray | null
    if ((m = OLD_ERROR.exec(body))) {
      const msg = `${m[2] !== undefined ? m[2] + ' ' : ''}${m[3]} ${m[4]}: ${m[5]}`
      return this.addLog(ref, offset, time, LEVELS[m[1]], 'plugin/errors: ' + msg)
    }
    if ((m = KLOG.exec(body)))
      return this.addLog(ref, offset, time, LEVELS[m[1]], m[2], 'kubernetes')
    if ((m = PANIC.exec(body))) return this.addLog(ref, offset, time, 'panic', m[1])
    if (this.lastPanic && STACK.test(body)) {
      // Stack frames of the panic above: the first few go into its message, no problems.
      if (++this.stackLines <= 12) this.lastPanic.message += '\n' + body
      return
    }
    if (BANNER_VERSION.test(body) || BANNER_PLATFORM.test(body) || BANNER_SERVER.test(body)) {
      return this.addLog(ref, offset, time, 'info', body)
    }
    // Not CoreDNS: a shell prompt, a Corefile dump, another program's output, binary junk.
    this.addForeign(ref, this.raw)
  }

  private base(ref: number, offset: number, time: number): Base {
    return { input: this.input.index, ref, offset, vantage: this.input.vantage, time }
  }

  private addQuery(ev: DnsMessageEvent): void {
    this.flushRun()
    this.lastPanic = null
    this.queries++
    // Into the column store when there is one: a million lines are then not a million objects
    // alive at once for the garbage collector to trace and move.
    if (this.dns) this.dns.push(ev)
    else this.events.push(ev)
  }

  private addLog(
    ref: number,
    offset: number,
    time: number,
    level: Level,
    text: string,
    plugin = '',
  ): void {
    this.flushRun()
    const p = PLUGIN.exec(text)
    const message = p ? text.slice(p[0].length) : text
    const name = p ? p[1] : plugin || (/^Reloading\b/.test(text) ? 'reload' : '')
    const ev = logEvent(this.base(ref, offset, time), level, name, message)
    this.lastPanic = level === 'panic' ? ev : null
    this.stackLines = 0
    this.push(ev)
    const v = BANNER_VERSION.exec(text)
    if (v) this.addVersion(ref, offset, time, v[1])
  }

  private addVersion(ref: number, offset: number, time: number, version: string): void {
    if (this.versions.has(version)) return
    this.versions.add(version)
    this.push({
      kind: 'fact',
      ...this.base(ref, offset, time),
      fact: { type: 'coredns-version', version },
    })
  }

  private push(e: Event): void {
    this.events.push(e)
  }

  private addForeign(ref: number, text: string): void {
    const binary = /[\x00-\x08\x0e-\x1f\ufffd]/.test(text)
    const r = this.foreign
    if (r.count > 0 && r.binary !== binary) this.flushRun()
    if (r.count === 0) {
      r.from = ref
      r.first = text
      r.binary = binary
    }
    r.to = ref
    r.count++
    this.lastPanic = null
  }

  private flushRun(): void {
    const r = this.foreign
    if (r.count === 0) return
    const what = r.binary
      ? 'binary data, not text'
      : this.foreignSection
        ? `minikube logs section "${this.foreignSection}", not CoreDNS`
        : 'not CoreDNS log output'
    const lines = r.count === 1 ? '1 line' : `${r.count} lines`
    const where = r.from === r.to ? `line ${r.from}` : `lines ${r.from}-${r.to}`
    const first = r.binary ? '' : ` (first: ${JSON.stringify(cut(r.first))})`
    this.pushProblem({ where, message: `${lines} skipped: ${what}${first}` })
    r.count = 0
  }

  private flushHeld(): void {
    if (!this.held) return
    this.problem(this.held.ref, 'the quoted question is not closed (line cut off?)')
    this.held = null
  }

  private problem(ref: number, message: string): void {
    this.pushProblem({ where: `line ${ref}`, message })
  }

  private pushProblem(p: Problem): void {
    if (this.problems.length < MAX_PROBLEMS) this.problems.push(p)
    else this.dropped++
  }

  result(): ImportResult {
    const problems = this.problems
    if (this.dropped)
      problems.push({ where: 'file', message: `${this.dropped} more problems not listed` })
    return { events: this.events, problems, eventCount: this.queries }
  }
}

function logEvent(
  base: { input: number; ref: number; offset: number; vantage: string; time: number },
  level: Level,
  plugin: string,
  message: string,
): LogEvent {
  return { kind: 'log', ...base, level, plugin, message }
}

// --- detection ----------------------------------------------------------------------------------

/** CoreDNS if any of the first lines is a query line, a plugin message or a banner. */
function sniff(head: Uint8Array): boolean {
  const text = new TextDecoder().decode(head.subarray(0, 32 * 1024))
  let weak = 0
  let n = 0
  for (const raw of text.split('\n')) {
    if (++n > 400) break
    const line = raw.trim()
    if (line === '' || line.length > 4096) continue
    const { body } = peelPrefixes(line)
    const level = LEVEL.exec(body)
    const rest = level ? body.slice(level[0].length) : body
    if (QUERY.test(rest) || OLD_ERROR.test(body) || BANNER_VERSION.test(rest)) return true
    if (level && (PLUGIN.test(rest) || /^Reloading\b|^CoreDNS-/.test(rest))) return true
    if (level || KLOG.test(body) || PANIC.test(body)) weak++
  }
  // `[INFO] Using Corefile /etc/Corefile` (node-cache), klog lines, a panic: common to many Go
  // programs, so they count only beside a CoreDNS word (`github.com/coredns/coredns/...` frames).
  return weak > 0 && /coredns|corefile|nodelocaldns|node-cache/i.test(text)
}

export const corednsLogImporter: Importer = {
  id: 'coredns-log',
  title: 'CoreDNS log (log/errors plugins, kubectl logs, CRI)',
  binary: false,
  sniff,
  parse,
}
