#!/usr/bin/env bash
# The test suite runs real DNS software and real tools (tshark, tcpdump, unbound, nsd, fstrm_capture,
# dnstap-ldns, dnsperf, dig, bpftrace, conntrack, iptables, chromium). On a fresh Debian machine, as
# root, install the missing ones; otherwise say what is missing and how to get it.
set -euo pipefail
declare -A pkg=(
  [tshark]=tshark [tcpdump]=tcpdump [unbound]=unbound [nsd]=nsd [fstrm_capture]=fstrm-bin
  [dnstap-ldns]=dnstap-ldns [dnsperf]=dnsperf [dig]=bind9-dnsutils [bpftrace]=bpftrace
  [conntrack]=conntrack [iptables]=iptables [ip]=iproute2 [chromium]=chromium [kubectl]=kubernetes-client
)
missing=()
for bin in "${!pkg[@]}"; do
  command -v "$bin" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin" command -v "$bin" >/dev/null 2>&1 || missing+=("${pkg[$bin]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "ensure-tools: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "ensure-tools: missing Debian packages: ${missing[*]} (run as root: apt-get install ${missing[*]})" >&2
  exit 1
fi
