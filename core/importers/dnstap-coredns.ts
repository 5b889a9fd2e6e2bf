// What CoreDNS's dnstap output means, by version. Sources (coredns/coredns):
// - plugin/forward/dnstap.go: forward gained dnstap in PR #2703 (2019). From then on toDnstap()
//   runs after the upstream exchange returns: FORWARDER_QUERY carries the start time, and
//   FORWARDER_RESPONSE is written only when a reply came back, so an upstream timeout or error is
//   an FQ without an FR, and the FQ reaches the file only when the exchange has ended.
// - Until 1.7.x the forwarder messages were built with msg.Builder.ToOutsideQuery/Response:
//   response_address/port = the upstream, no query_address (the dnstap.proto layout).
// - 1.8.0 (PR #4179 "plugin/dnstap: various cleanups"): FQ sets query_address/port to the
//   upstream and no response_address; FR carries no address and no socket family at all.
//   CLIENT_QUERY was still written from the response writer, so a query without a response had
//   no CQ, and CQ reached the file after the FQ/FR it caused (issue #4395).
// - 1.8.2 (PR #4396, fixing #4395): CQ is written when the query arrives (handler.go ServeDNS);
//   FQ/FR set query_address/port to the downstream *client* (state.W.RemoteAddr()) and
//   response_address/port to the upstream: two ends of two different sockets.
// - 1.14.5 (PR #8184, "Make dnstap FORWARDER_* describe the socket from CoreDNS to upstream"):
//   query_address/port = CoreDNS's own socket toward the upstream, response_address = upstream.
//   Same release, PR #8186: IPv4-mapped IPv6 addresses are stored as 4 octets with family INET.
// The default dnstap `version` field is "CoreDNS-<version>" (plugin/dnstap/setup.go:
// caddy.AppName + "-" + caddy.AppVersion); the `identity` default is the hostname (the pod name).

/** How FORWARDER_* messages fill query_address and response_address. */
export type ForwarderAddressLayout =
  /** query_address = the server's own socket (or absent), response_address = the upstream. */
  | 'spec'
  /** CoreDNS 1.8.0-1.8.1: query_address = the upstream; FR has no addresses. */
  | 'upstream-in-query'
  /** CoreDNS 1.8.2-1.14.4: query_address = the downstream client, response_address = the upstream. */
  | 'client-in-query'

export interface CorednsDnstapSemantics {
  /** "1.11.1" */
  version: string
  forwarderAddresses: ForwarderAddressLayout
  /** Before 1.8.2: no CLIENT_QUERY without a response, so unanswered client queries are invisible. */
  clientQueryOnlyWithResponse: boolean
  /** Always true: FQ/FR are written after the upstream exchange; a timeout is an FQ without FR. */
  forwarderWrittenAfterExchange: true
}

// Sample version field: "CoreDNS-1.11.1"
const COREDNS_VERSION = /^coredns-v?(\d+)\.(\d+)\.(\d+)/i

/**
 * The dnstap semantics of the CoreDNS version named in a dnstap `version` field; null when the
 * field does not name a CoreDNS version (another server, or a version string set by hand).
 * @example corednsDnstapSemantics('CoreDNS-1.8.1')?.forwarderAddresses // 'upstream-in-query'
 */
export function corednsDnstapSemantics(versionField: string): CorednsDnstapSemantics | null {
  const m = COREDNS_VERSION.exec(versionField)
  if (!m) return null
  const v = Number(m[1]) * 1_000_000 + Number(m[2]) * 1_000 + Number(m[3])
  const at = (major: number, minor: number, patch: number) =>
    major * 1_000_000 + minor * 1_000 + patch
  let forwarderAddresses: ForwarderAddressLayout = 'spec'
  if (v >= at(1, 8, 0) && v < at(1, 8, 2)) forwarderAddresses = 'upstream-in-query'
  else if (v >= at(1, 8, 2) && v < at(1, 14, 5)) forwarderAddresses = 'client-in-query'
  return {
    version: `${m[1]}.${m[2]}.${m[3]}`,
    forwarderAddresses,
    clientQueryOnlyWithResponse: v < at(1, 8, 2),
    forwarderWrittenAfterExchange: true,
  }
}
