// gethostlatency output, BCC (tools/gethostlatency.py @ 6d0a964c2cda: LATms as %10.2f) and
// bpftrace (tools/gethostlatency.bt @ 82aed35031a3: integer LATms): one row per getaddrinfo(),
// gethostbyname() or gethostbyname2() call, found by the header `TIME PID COMM LATms HOST`.
import type { HostLookupEvent } from '../model/event.js'
import type { Importer } from './importer.js'
import { headerTokens, readTables } from './column-table.js'
import { headLines, int, lineBase, TIME_OF_DAY_RE } from './text-lines.js'

function isHeader(cols: string[]): boolean {
  return cols.includes('LATms') && cols.includes('HOST') && cols.includes('PID')
}

export const gethostlatency: Importer = {
  id: 'gethostlatency',
  title: 'gethostlatency (BCC, bpftrace)',
  binary: false,
  sniff(head) {
    const lines = headLines(head)
    if (!lines) return false
    return lines.some((l) => {
      const cols = headerTokens(l)
      return cols !== null && isHeader(cols)
    })
  },
  parse(input) {
    const { records, problems } = readTables<HostLookupEvent>(input, {
      absorb: 'COMM',
      accepts: isHeader,
      row(cells, l) {
        // 06:10:24  28011  wget          90.00 www.iovisor.org
        const ev: HostLookupEvent = {
          ...lineBase(input, l),
          kind: 'host-lookup',
          pid: -1,
          comm: '',
          host: '',
          latencyUs: NaN,
        }
        for (const [col, value] of cells) {
          if (col === 'TIME') {
            if (!TIME_OF_DAY_RE.test(value)) return 'bad TIME in row'
            ev.clock = value
          } else if (col === 'PID') {
            ev.pid = int(value)
            if (!(ev.pid >= 0)) return 'bad PID in row'
          } else if (col === 'COMM') ev.comm = value
          else if (col === 'LATms') {
            if (!/^\d+(?:\.\d+)?$/.test(value)) return 'bad LATms in row'
            ev.latencyUs = Math.round(Number(value) * 1000)
          } else if (col === 'HOST') ev.host = value
        }
        return ev
      },
    })
    return { events: records.map((r) => r.record), problems }
  },
}
