// `ipvsadm -Ln` (virtual services and their real servers) and `ipvsadm -Lnc` (connection
// entries), as ipvsadm 1.2x-1.31 prints them (ipvsadm.c print_service_entry / print_conn).
// Both listings may share one file. A real server with weight 0 that still holds connections is
// what kept UDP DNS flows pinned to a deleted CoreDNS pod (kubernetes#71514, #76664).
import type { FactEvent } from '../model/event.js'
import type { Importer, Problem } from './importer.js'
import {
  headLines,
  lineBase,
  lineProblem,
  PROMPT_RE,
  splitHostPort,
  textLines,
} from './text-lines.js'

// UDP  192.168.127.89:514 lc      |  TCP  10.96.0.1:443 rr persistent 10800  |  FWM  100 rr
const SERVICE = /^(TCP|UDP|SCTP|FWM)\s+(\S+)\s+([a-z]+)(?:\s+(.*))?$/
//   -> 192.168.128.193:514          Masq    1      0          1
const REAL = /^->\s+(\S+)\s+(Masq|Route|Tunnel|Local|FullNat)\s+(\d+)\s+(\d+)\s+(\d+)$/
// UDP 04:24  UDP         192.168.127.89:44117 192.168.127.89:514 192.168.129.116:514
const CONN = /^(TCP|UDP|SCTP)\s+(\d\d):(\d\d)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)$/
const HEADERS = [
  /^IP Virtual Server version [\d.]+ \(size=\d+\)$/,
  /^Prot LocalAddress:Port Scheduler Flags$/,
  /^->\s*RemoteAddress:Port\s+Forward\s+Weight\s+ActiveConn\s+InActConn$/,
  /^IPVS connection entries$/,
  /^pro\s+expire\s+state\s+source\s+virtual\s+destination$/,
]

type Service = Extract<FactEvent['fact'], { type: 'ipvs-service' }>

export const ipvsadm: Importer = {
  id: 'ipvsadm',
  title: 'ipvsadm -Ln / -Lnc',
  binary: false,
  sniff(head) {
    const lines = headLines(head, 100)
    if (!lines) return false
    return lines.some((l) => {
      const t = l.trim().replace(/\s+/g, ' ')
      return HEADERS.some((h) => h.test(t)) || REAL.test(t)
    })
  },
  parse(input) {
    const events: FactEvent[] = []
    const problems: Problem[] = []
    let service: Service | null = null
    for (const l of textLines(input.bytes)) {
      const text = l.text.trim().replace(/\s+/g, ' ')
      if (text === '' || PROMPT_RE.test(l.text) || HEADERS.some((h) => h.test(text))) continue
      const real = REAL.exec(text)
      if (real) {
        const hp = splitHostPort(real[1])
        if (!service || !hp) {
          problems.push(
            lineProblem(l, service ? 'bad real server address' : 'real server without a service'),
          )
          continue
        }
        service.realServers.push({
          addr: hp.addr,
          port: hp.port,
          weight: Number(real[3]),
          activeConn: Number(real[4]),
          inactConn: Number(real[5]),
        })
        continue
      }
      const conn = CONN.exec(text)
      if (conn) {
        const [, protocol, mm, ss, state, source, virtual, destination] = conn
        events.push({
          ...lineBase(input, l),
          kind: 'fact',
          fact: {
            type: 'ipvs-connection',
            protocol,
            expireSec: Number(mm) * 60 + Number(ss),
            state,
            source,
            virtual,
            destination,
          },
        })
        continue
      }
      const svc = SERVICE.exec(text)
      if (svc) {
        const hp = svc[1] === 'FWM' ? { addr: svc[2], port: 0 } : splitHostPort(svc[2])
        if (!hp) {
          problems.push(lineProblem(l, 'bad virtual service address'))
          continue
        }
        service = {
          type: 'ipvs-service',
          protocol: svc[1],
          vip: hp.addr,
          port: hp.port,
          scheduler: svc[3],
          realServers: [],
        }
        events.push({ ...lineBase(input, l), kind: 'fact', fact: service })
        continue
      }
      problems.push(lineProblem(l, 'not an ipvsadm -Ln or -Lnc line'))
    }
    return { events, problems }
  },
}
