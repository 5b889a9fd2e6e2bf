// DNS constants with their registries: RFC 1035 §3.2.2 / §4.1.1 and the IANA "DNS Parameters"
// registry (types, rcodes). Names are what dig, tshark and CoreDNS print.

/** RR TYPE numbers by mnemonic (IANA DNS Parameters, Resource Record (RR) TYPEs). */
export const QTYPE: Readonly<Record<string, number>> = {
  A: 1,
  NS: 2,
  MD: 3,
  MF: 4,
  CNAME: 5,
  SOA: 6,
  MB: 7,
  MG: 8,
  MR: 9,
  NULL: 10,
  WKS: 11,
  PTR: 12,
  HINFO: 13,
  MINFO: 14,
  MX: 15,
  TXT: 16,
  RP: 17,
  AFSDB: 18,
  X25: 19,
  ISDN: 20,
  RT: 21,
  NSAP: 22,
  'NSAP-PTR': 23,
  SIG: 24,
  KEY: 25,
  PX: 26,
  GPOS: 27,
  AAAA: 28,
  LOC: 29,
  NXT: 30,
  EID: 31,
  NIMLOC: 32,
  SRV: 33,
  ATMA: 34,
  NAPTR: 35,
  KX: 36,
  CERT: 37,
  A6: 38,
  DNAME: 39,
  SINK: 40,
  OPT: 41,
  APL: 42,
  DS: 43,
  SSHFP: 44,
  IPSECKEY: 45,
  RRSIG: 46,
  NSEC: 47,
  DNSKEY: 48,
  DHCID: 49,
  NSEC3: 50,
  NSEC3PARAM: 51,
  TLSA: 52,
  SMIMEA: 53,
  HIP: 55,
  NINFO: 56,
  RKEY: 57,
  TALINK: 58,
  CDS: 59,
  CDNSKEY: 60,
  OPENPGPKEY: 61,
  CSYNC: 62,
  ZONEMD: 63,
  SVCB: 64,
  HTTPS: 65,
  SPF: 99,
  NID: 104,
  L32: 105,
  L64: 106,
  LP: 107,
  EUI48: 108,
  EUI64: 109,
  TKEY: 249,
  TSIG: 250,
  IXFR: 251,
  AXFR: 252,
  MAILB: 253,
  MAILA: 254,
  ANY: 255,
  URI: 256,
  CAA: 257,
  AVC: 258,
  DOA: 259,
  AMTRELAY: 260,
  TA: 32768,
  DLV: 32769,
}

const QTYPE_NAME: string[] = []
for (const [name, n] of Object.entries(QTYPE)) QTYPE_NAME[n] = name

/** Mnemonic for a type number; `TYPE123` (RFC 3597 §5) when it has none. */
export function qtypeName(n: number): string {
  return QTYPE_NAME[n] ?? `TYPE${n}`
}

/** Type number for a mnemonic or an RFC 3597 `TYPEnnn`; -1 when unknown. */
export function qtypeNumber(name: string): number {
  const up = name.toUpperCase()
  const n = QTYPE[up]
  if (n !== undefined) return n
  const m = /^TYPE(\d{1,5})$/.exec(up)
  return m ? Number(m[1]) : -1
}

/** RCODE names (RFC 1035 §4.1.1, RFC 2136, RFC 6891 extended codes). */
const RCODE_NAMES = [
  'NOERROR',
  'FORMERR',
  'SERVFAIL',
  'NXDOMAIN',
  'NOTIMP',
  'REFUSED',
  'YXDOMAIN',
  'YXRRSET',
  'NXRRSET',
  'NOTAUTH',
  'NOTZONE',
  'DSOTYPENI',
  'RCODE12',
  'RCODE13',
  'RCODE14',
  'RCODE15',
  'BADVERS',
  'BADKEY',
  'BADTIME',
  'BADMODE',
  'BADNAME',
  'BADALG',
  'BADTRUNC',
  'BADCOOKIE',
]

export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
} as const

export function rcodeName(n: number): string {
  if (n < 0) return 'NONE'
  return RCODE_NAMES[n] ?? `RCODE${n}`
}

export function rcodeNumber(name: string): number {
  const up = name.toUpperCase()
  const i = RCODE_NAMES.indexOf(up)
  if (i >= 0) return i
  const m = /^RCODE(\d+)$/.exec(up)
  return m ? Number(m[1]) : -2
}

/** Header flag bits in the 16-bit flags word (RFC 1035 §4.1.1, RFC 4035 §3.2 for AD/CD). */
export const FLAG = {
  QR: 0x8000,
  AA: 0x0400,
  TC: 0x0200,
  RD: 0x0100,
  RA: 0x0080,
  Z: 0x0040,
  AD: 0x0020,
  CD: 0x0010,
} as const

export const CLASS_IN = 1
