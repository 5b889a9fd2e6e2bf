// CoreDNS metric names across versions, mapped to the current naming. Sources, each checked:
// - 1.7.0 renames: coredns/coredns notes/coredns-1.7.0.md "Metric Changes" (PR #3776, #3799, #3805),
//   including "coredns_dns_request_type_count_total is now part of coredns_dns_requests_total".
// - 1.11 forward -> proxy: coredns/coredns plugin/forward/README.md "Metrics" and
//   plugin/pkg/proxy/metrics.go (labels proxy_name, to, rcode); issue #6160, PR #6178.
// - pre-1.0 `coredns_dns_request_duration_milliseconds`: issue #1251 shows a 172.933µs query in
//   the le="0.005" bucket, so its values were already seconds; only the name was wrong.

/** A family renamed between CoreDNS versions. */
export interface MetricRename {
  from: string
  to: string
  /** The CoreDNS version that introduced `to`. */
  since: string
  /** Labels the new name carries that the old one did not (proxy_name for forward -> proxy). */
  addLabels?: Readonly<Record<string, string>>
  /**
   * True when the old family was a second breakdown of the same count (request_type_count_total
   * beside request_count_total): summing both partitions would count each request twice.
   */
  breakdown?: boolean
}

const RENAMES_1_7: [string, string][] = [
  ['coredns_request_block_count_total', 'coredns_dns_blocked_requests_total'],
  ['coredns_request_allow_count_total', 'coredns_dns_allowed_requests_total'],
  ['coredns_dns_acl_request_block_count_total', 'coredns_acl_blocked_requests_total'],
  ['coredns_dns_acl_request_allow_count_total', 'coredns_acl_allowed_requests_total'],
  ['coredns_autopath_success_count_total', 'coredns_autopath_success_total'],
  ['coredns_forward_request_count_total', 'coredns_forward_requests_total'],
  ['coredns_forward_response_rcode_count_total', 'coredns_forward_responses_total'],
  ['coredns_forward_healthcheck_failure_count_total', 'coredns_forward_healthcheck_failures_total'],
  ['coredns_forward_healthcheck_broken_count_total', 'coredns_forward_healthcheck_broken_total'],
  [
    'coredns_forward_max_concurrent_reject_count_total',
    'coredns_forward_max_concurrent_rejects_total',
  ],
  ['coredns_grpc_request_count_total', 'coredns_grpc_requests_total'],
  ['coredns_grpc_response_rcode_count_total', 'coredns_grpc_responses_total'],
  ['coredns_panic_count_total', 'coredns_panics_total'],
  ['coredns_dns_request_count_total', 'coredns_dns_requests_total'],
  ['coredns_dns_request_do_count_total', 'coredns_dns_do_requests_total'],
  ['coredns_dns_response_rcode_count_total', 'coredns_dns_responses_total'],
  ['coredns_reload_failed_count_total', 'coredns_reload_failed_total'],
  ['coredns_cache_size', 'coredns_cache_entries'],
]

/** forward metrics that stayed in the forward namespace in 1.11 (plugin/forward/metrics.go). */
const FORWARD_STAYS = new Set([
  'coredns_forward_healthcheck_broken_total',
  'coredns_forward_max_concurrent_rejects_total',
])

const BY_OLD = new Map<string, MetricRename>()
for (const [from, to] of RENAMES_1_7) BY_OLD.set(from, { from, to, since: '1.7.0' })
BY_OLD.set('coredns_dns_request_type_count_total', {
  from: 'coredns_dns_request_type_count_total',
  to: 'coredns_dns_requests_total',
  since: '1.7.0',
  breakdown: true,
})
BY_OLD.set('coredns_dns_request_duration_milliseconds', {
  from: 'coredns_dns_request_duration_milliseconds',
  to: 'coredns_dns_request_duration_seconds',
  since: '1.0.0',
})

const FORWARD = 'coredns_forward_'
const PROXY_LABELS = Object.freeze({ proxy_name: 'forward' })

/** The rename that applies to a family name, or undefined when the name is current. */
export function renameFor(family: string): MetricRename | undefined {
  const direct = BY_OLD.get(family)
  const name = direct ? direct.to : family
  if (!name.startsWith(FORWARD) || FORWARD_STAYS.has(name)) return direct
  // 1.11 moved the forward plugin's per-upstream metrics to coredns_proxy_* with proxy_name.
  // coredns_forward_requests_total / _responses_total have no released proxy twin (1.11+ derive
  // them from coredns_proxy_request_duration_seconds_count); they land on the names #5951 gave
  // them so one name holds the series across versions.
  return {
    from: family,
    to: 'coredns_proxy_' + name.slice(FORWARD.length),
    since: '1.11.0',
    addLabels: PROXY_LABELS,
  }
}

const SUFFIXES = ['_bucket', '_sum', '_count'] as const

/**
 * The current name of a sample name, histogram suffixes kept.
 * @example normalizeSampleName('coredns_forward_request_duration_seconds_bucket')
 *   // { name: 'coredns_proxy_request_duration_seconds_bucket', rename: {...} }
 */
export function normalizeSampleName(name: string): { name: string; rename?: MetricRename } {
  if (!name.startsWith('coredns_')) return { name }
  const whole = renameFor(name)
  if (whole) return { name: whole.to, rename: whole }
  for (const suffix of SUFFIXES) {
    if (!name.endsWith(suffix)) continue
    const r = renameFor(name.slice(0, -suffix.length))
    if (r) return { name: r.to + suffix, rename: r }
  }
  return { name }
}

/** True when samples with this original name are a second breakdown of their normalized family. */
export function isBreakdownOf(originalName: string | undefined): boolean {
  return originalName !== undefined && BY_OLD.get(originalName)?.breakdown === true
}
