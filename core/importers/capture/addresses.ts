// Address interning for the capture decoder: every distinct IPv4/IPv6 address gets one small
// integer id and one text form (RFC 5952 for IPv6), built once. Events share the strings, and
// TCP / fragment state is keyed by the ids, so the hot path never builds a string per packet.
import { u32be } from '../../codec/byte-reader.js'
import { ipv6Text } from '../../codec/dns-message.js'

export class AddressTable {
  /** Text form by id. */
  readonly text: string[] = []
  private readonly v4 = new Map<number, number>()
  /** IPv6: a 32-bit hash of the address -> id; the id's 16 bytes are kept to verify a hit. */
  private readonly v6 = new Map<number, number>()
  private readonly v6Collided = new Map<string, number>()
  private v6Bytes = new Uint8Array(16 * 64)
  private readonly v6Slot: number[] = []

  /** Id of the IPv4 address at `b[at..at+4)`. */
  ipv4(b: Uint8Array, at: number): number {
    const key = u32be(b, at)
    let id = this.v4.get(key)
    if (id === undefined) {
      id = this.text.length
      this.text.push(`${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`)
      this.v4.set(key, id)
    }
    return id
  }

  /** Id of the IPv6 address at `b[at..at+16)`. */
  ipv6(b: Uint8Array, at: number): number {
    let h = 0
    for (let i = 0; i < 16; i += 4) h = (Math.imul(h ^ u32be(b, at + i), 0x9e3779b1) + i) | 0
    const id = this.v6.get(h)
    if (id !== undefined) {
      const slot = this.v6Slot[id] * 16
      const stored = this.v6Bytes
      let i = 0
      while (i < 16 && stored[slot + i] === b[at + i]) i++
      if (i === 16) return id
      // Two addresses with one hash: rare, resolved by text.
      const text = formatIpv6(b, at)
      let other = this.v6Collided.get(text)
      if (other === undefined) {
        other = this.text.length
        this.text.push(text)
        this.v6Collided.set(text, other)
      }
      return other
    }
    const newId = this.text.length
    this.text.push(formatIpv6(b, at))
    const slot = this.v6.size
    if ((slot + 1) * 16 > this.v6Bytes.length) {
      const grown = new Uint8Array(this.v6Bytes.length * 2)
      grown.set(this.v6Bytes)
      this.v6Bytes = grown
    }
    this.v6Bytes.set(b.subarray(at, at + 16), slot * 16)
    this.v6Slot[newId] = slot
    this.v6.set(h, newId)
    return newId
  }
}

/** RFC 5952 text, with the dotted tail of IPv4-mapped addresses (::ffff:192.0.2.1) as tshark shows it. */
export function formatIpv6(b: Uint8Array, at: number): string {
  let mapped = true
  for (let i = 0; i < 10; i++) if (b[at + i] !== 0) mapped = false
  if (mapped && b[at + 10] === 0xff && b[at + 11] === 0xff)
    return `::ffff:${b[at + 12]}.${b[at + 13]}.${b[at + 14]}.${b[at + 15]}`
  return ipv6Text(b, at)
}
