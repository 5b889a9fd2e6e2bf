// Runs one scenario end to end: fresh topology, servers, recorders, the scenario's traffic and
// fault, then the bundle (files + manifest.json) and truth.json. Everything started is stopped
// and the topology removed in `finally`, whatever happened.
import {
  mkdirSync,
  rmSync,
  writeFileSync,
  readFileSync,
  copyFileSync,
  existsSync,
  readdirSync,
  readlinkSync,
} from 'node:fs'
import { join } from 'node:path'
import { NS, ADDR, OUT_DIR, RUN_DIR, LAB_DIR, resolvConf } from './config.mjs'
import { setup, teardown, CGROUP, removeCgroup, addSecondEndpoint } from './topology.mjs'
import {
  startBg,
  waitBg,
  stopBg,
  stopAll,
  sleep,
  sh,
  nsx,
  safeRead,
  pidOf,
  rawPrerouting,
} from './proc.mjs'
import {
  startUpstream,
  startResolver,
  stopResolver,
  startCapture,
  stopCapture,
  startDropTrace,
  netnsInode,
} from './daemons.mjs'
import { SCENARIOS, dnsperfData, CPU_QUOTA } from './scenarios.mjs'
import {
  tsharkDns,
  dnstapMessages,
  clientLog,
  dnsperfCounters,
  iptablesPackets,
  dropTable,
} from './oracles.mjs'
import { computeClientTruth, endpointTruth, nodeDrops, txSummary } from './truth.mjs'

const VANTAGES = {
  pod: {
    id: 'pod/default/client-7d9f8b6c5-x2x9z',
    type: 'pod',
    name: 'default/client-7d9f8b6c5-x2x9z',
    node: 'dnslab-node',
    addresses: [ADDR.pod, ADDR.podPerf],
  },
  node: {
    id: 'node/dnslab-node',
    type: 'node',
    name: 'dnslab-node',
    node: 'dnslab-node',
    addresses: [ADDR.nodePodSide, ADDR.nodeDnsSide],
  },
  dns: {
    id: 'dns/kube-system/coredns-lab',
    type: 'dns-server',
    name: 'kube-system/coredns-lab',
    node: 'dnslab-node',
    addresses: [ADDR.dns, ADDR.dnsUpSide],
  },
  // The second endpoint (the `replica` scenario): a CoreDNS pod of its own, named by its address.
  dns2: {
    id: 'dns/kube-system/coredns-lab-2',
    type: 'dns-server',
    name: 'kube-system/coredns-lab-2',
    node: 'dnslab-node',
    addresses: [ADDR.dns2],
  },
  up: { id: 'upstream/nsd', type: 'upstream', name: 'upstream-nsd', addresses: [ADDR.upstream] },
}

const iso = (ms) => new Date(ms).toISOString()

export function scenarioIds() {
  return Object.keys(SCENARIOS)
}

/** Runs scenario `id`; returns { dir, truth, seconds }. Throws if the lab or its truth is broken. */
export async function runScenario(id, opts = {}) {
  const first = await runOnce(id, opts)
  const why = SCENARIOS[id].rerunIf?.(first.truth)
  if (!why) return first
  // Random loss can miss what the scenario exists to show; one more run, and truth.json says so.
  ;(opts.log ?? console.log)(`lab: ${id}: ${why}; running it once more`)
  const second = await runOnce(id, opts)
  second.truth.notes = [...(second.truth.notes ?? []), `second run: the first had ${why}`]
  writeFileSync(join(second.dir, 'truth.json'), JSON.stringify(second.truth, null, 2) + '\n')
  return { ...second, seconds: first.seconds + second.seconds }
}

async function runOnce(id, { log = console.log } = {}) {
  const sc = SCENARIOS[id]
  if (!sc) throw new Error(`unknown scenario ${id}; known: ${scenarioIds().join(', ')}`)
  const t0 = Date.now()
  const dir = join(OUT_DIR, id)
  const bundle = join(dir, 'bundle')
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(bundle, { recursive: true })
  const resolvOptions = sc.resolvOptions ?? 'ndots:5'
  const files = []
  const marks = []
  const state = { blackholeDrops: '', cpuStat: '', perf: {} }
  const sigHandler = async (sig) => {
    log(`lab: ${sig}, cleaning up`)
    await stopAll()
    await teardown()
    process.exit(130)
  }
  process.once('SIGINT', sigHandler)
  process.once('SIGTERM', sigHandler)
  try {
    await teardown()
    setup({ resolvOptions })
    const inode = Object.fromEntries(Object.entries(NS).map(([k, ns]) => [netnsInode(ns), k]))
    await startUpstream()
    await startResolver(join(bundle, 'coredns.dnstap'))
    const replicas = sc.replicas ?? 1
    if (replicas === 2) await startResolver(join(bundle, 'coredns-2.dnstap'), 2)
    const start = Date.now()
    await startCapture('tcpdump-pod', NS.pod, join(bundle, 'pod.pcap'))
    await startCapture('tcpdump-node', NS.node, join(bundle, 'node.pcap'))
    await startCapture('tcpdump-up', NS.up, join(bundle, 'upstream.pcap'))
    await startDropTrace(join(RUN_DIR, 'drops.txt'))
    await sleep(200)
    log(`lab: ${id}: recording (setup ${((Date.now() - t0) / 1000).toFixed(1)} s)`)

    let clientN = 0
    const lab = {
      sleep,
      ns: (ns, cmd, args) => nsx(ns, cmd, args),
      mark: (what) => marks.push({ what, at: iso(Date.now()) }),
      startClient(plan) {
        const name = `client${clientN++ || ''}`
        const planFile = join(RUN_DIR, `${name}-plan.json`)
        writeFileSync(planFile, JSON.stringify(plan))
        // libuv runs at most half its pool as slow work (getaddrinfo): give it room for 4 lookups.
        const env = { ...process.env, UV_THREADPOOL_SIZE: '8' }
        const started = startBg(
          name,
          'ip',
          [
            'netns',
            'exec',
            NS.pod,
            process.execPath,
            join(LAB_DIR, 'client.mjs'),
            planFile,
            join(dir, `${name}.jsonl`),
          ],
          { out: join(RUN_DIR, `${name}.log`), env },
        )
        return async (timeoutMs = 60_000) => {
          await started
          const r = await waitBg(name, timeoutMs)
          if (r.code !== 0)
            throw new Error(
              `${name} failed (${JSON.stringify(r)}): ${safeRead(join(RUN_DIR, `${name}.log.err`))}`,
            )
        }
      },
      async runClient(plan, timeoutMs) {
        await lab.startClient(plan)(timeoutMs)
      },
      addSecondEndpoint,
      async stopUpstream() {
        await stopBg('nsd', 'SIGTERM', 3000)
      },
      limitResolverCpu({ periodUs, quotaUs }) {
        mkdirSync(CGROUP, { recursive: true })
        writeFileSync(join(CGROUP, 'cpu.cfs_period_us'), String(periodUs))
        writeFileSync(join(CGROUP, 'cpu.cfs_quota_us'), String(quotaUs))
        writeFileSync(join(CGROUP, 'cgroup.procs'), String(pidOf('unbound')))
      },
      async dnsperf(name, { qps, seconds, prefix }) {
        const data = join(RUN_DIR, `${name}.dnsperf`)
        writeFileSync(data, dnsperfData(prefix, qps * seconds))
        const out = join(dir, `dnsperf-${name}.txt`)
        await startBg(
          `dnsperf-${name}`,
          'ip',
          [
            'netns',
            'exec',
            NS.pod,
            'dnsperf',
            '-s',
            ADDR.service,
            '-a',
            ADDR.podPerf,
            '-d',
            data,
            '-n',
            '1',
            '-l',
            String(seconds),
            '-Q',
            String(qps),
            '-c',
            '4',
            '-q',
            '500',
            '-t',
            '5',
          ],
          { out },
        )
        const r = await waitBg(`dnsperf-${name}`, (seconds + 30) * 1000)
        if (r.code !== 0) throw new Error(`dnsperf failed: ${safeRead(out + '.err')}`)
        state.perf[name] = { qps, seconds, ...dnsperfCounters(readFileSync(out, 'utf8')) }
      },
      set blackholeDrops(v) {
        state.blackholeDrops = v
      },
    }
    await sc.act(lab)
    // Late responses, and unbound's dnstap thread flushes on a timer of about a second.
    await sleep(1800)

    const captures = {}
    for (const c of ['tcpdump-pod', 'tcpdump-node', 'tcpdump-up'])
      captures[c] = await stopCapture(c)
    await stopBg('bpftrace', 'SIGINT', 5000)
    const end = Date.now()
    // Node facts, at the end of the incident window, as a collector would gather them.
    const nodeFacts = {
      'node-uname.txt': sh('uname', ['-r']),
      'node-conntrack-stats.txt': nsx(NS.node, 'conntrack', ['-S']),
      'node-iptables-save.txt': nsx(NS.node, 'iptables-save', ['-c']),
    }
    const rawTable = rawPrerouting(NS.node)
    if (replicas === 2) {
      state.replicaRaw = rawPrerouting(NS.dns2)
      state.natTable = nsx(NS.node, 'iptables', ['-t', 'nat', '-L', '-v', '-x', '-n'])
    }
    if (existsSync(CGROUP)) state.cpuStat = readFileSync(join(CGROUP, 'cpu.stat'), 'utf8')
    await stopResolver()
    if (replicas === 2) await stopResolver(2)
    await stopBg('nsd', 'SIGTERM', 3000)
    removeCgroup()

    // --- the bundle -------------------------------------------------------------------------
    const win = { start: iso(start), end: iso(end) }
    const add = (path, kind, vantage, command, extra = {}) =>
      files.push({ path, kind, vantage: VANTAGES[vantage], window: win, command, ...extra })
    add('pod.pcap', 'pcap', 'pod', 'tcpdump -i any -n -U -w pod.pcap "port 53 or icmp"')
    add('node.pcap', 'pcap', 'node', 'tcpdump -i any -n -U -w node.pcap "port 53 or icmp"')
    add('upstream.pcap', 'pcap', 'up', 'tcpdump -i any -n -U -w upstream.pcap "port 53 or icmp"')
    add(
      'coredns.dnstap',
      'dnstap',
      'dns',
      'fstrm_capture -t protobuf:dnstap.Dnstap -u dnstap.sock -w coredns.dnstap',
    )
    if (replicas === 2)
      add(
        'coredns-2.dnstap',
        'dnstap',
        'dns2',
        'fstrm_capture -t protobuf:dnstap.Dnstap -u dnstap2.sock -w coredns-2.dnstap',
      )
    writeFileSync(join(bundle, 'pod-resolv.conf'), resolvConf(resolvOptions))
    add('pod-resolv.conf', 'resolv-conf', 'pod', 'cat /etc/resolv.conf')
    for (const [f, text] of Object.entries(nodeFacts)) {
      writeFileSync(join(bundle, f), text)
      // Kinds are importer ids (core/importers/index.ts). No importer reads iptables-save yet:
      // the file carries no kind, and the analyzer lists it as skipped with its reason.
      const [kind, cmd] = {
        'node-uname.txt': ['uname', 'uname -r'],
        'node-conntrack-stats.txt': ['conntrack-stats', 'conntrack -S'],
        'node-iptables-save.txt': [undefined, 'iptables-save -c'],
      }[f]
      add(f, kind, 'node', cmd)
    }
    // Kernel drops, one file per namespace (= per host in a real cluster): the product script's
    // own preamble (banner, tracepoint format, header), then that namespace's rows.
    const rawDrops = readFileSync(join(RUN_DIR, 'drops.txt'), 'utf8')
    copyFileSync(join(RUN_DIR, 'drops.txt'), join(dir, 'dns-drops.raw.txt'))
    const dropOutput = dropTable(rawDrops)
    const drops = dropOutput.rows.map((d) => ({ ...d, where: inode[d.netns] ?? 'other' }))
    const dropFile = {
      node: 'node-drops.txt',
      dns: 'coredns-drops.txt',
      dns2: 'coredns-2-drops.txt',
      up: 'upstream-drops.txt',
      pod: 'pod-drops.txt',
    }
    for (const [where, f] of Object.entries(dropFile)) {
      const lines = drops.filter((d) => d.where === where).map((d) => d.line)
      if (!lines.length && where !== 'node') continue
      writeFileSync(join(bundle, f), [...dropOutput.preamble, ...lines, ''].join('\n'))
      add(f, 'bpf-drop-table', where, 'bpftrace -B line dns-drops.bt')
    }
    if (state.cpuStat) {
      writeFileSync(join(bundle, 'coredns-cadvisor.prom'), cadvisor(state.cpuStat, end))
      add(
        'coredns-cadvisor.prom',
        'prometheus',
        'dns',
        'cAdvisor metrics of the coredns container (from cgroup cpu.stat)',
      )
    }
    const manifest = {
      schema: 'dnsbundle.manifest/v1',
      collectedBy: { name: 'dnsbundle-lab', version: '1' },
      collectedAt: iso(end),
      cluster: {
        name: 'dnslab',
        dnsServiceIps: [ADDR.service],
        dnsEndpoints: replicas === 2 ? [ADDR.dns, ADDR.dns2] : [ADDR.dns],
        kubeProxyMode: 'iptables',
      },
      files,
      notes: [`lab scenario ${id}: ${sc.title}`, ...marks.map((m) => `${m.at} ${m.what}`)],
    }
    writeFileSync(join(bundle, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n')

    // --- the ground truth --------------------------------------------------------------------
    const bpftraceLost = (/Lost \d+ events/.exec(
      rawDrops + safeRead(join(RUN_DIR, 'bpftrace.err')),
    ) ?? [null])[0]
    const truth = buildTruth({
      replicas,
      bpftraceLost,
      dropOutput,
      id,
      sc,
      dir,
      bundle,
      resolvOptions,
      captures,
      rawTable,
      drops,
      state,
      marks,
    })
    writeFileSync(join(dir, 'truth.json'), JSON.stringify(truth, null, 2) + '\n')
    const seconds = (Date.now() - t0) / 1000
    const bad = truth.checks.filter((c) => !c.ok)
    log(`lab: ${id}: done in ${seconds.toFixed(1)} s; ${JSON.stringify(truth.summary)}`)
    if (bad.length) log(`lab: ${id}: TRUTH CHECKS FAILED: ${JSON.stringify(bad, null, 1)}`)
    return { dir, truth, seconds }
  } finally {
    await stopAll()
    keepLogs(join(dir, 'logs'))
    await teardown()
    process.removeListener('SIGINT', sigHandler)
    process.removeListener('SIGTERM', sigHandler)
  }
}

/** The servers' and recorders' own logs, kept beside the bundle for whoever debugs a run. */
function keepLogs(to) {
  if (!existsSync(RUN_DIR)) return
  mkdirSync(to, { recursive: true })
  for (const f of readdirSync(RUN_DIR))
    if (/\.log(\.err)?$|\.err$/.test(f)) copyFileSync(join(RUN_DIR, f), join(to, f))
}

/** cAdvisor's CFS metrics for the "coredns" container, from the cgroup's own cpu.stat. */
function cadvisor(cpuStat, endMs) {
  const v = Object.fromEntries(
    cpuStat
      .trim()
      .split('\n')
      .map((l) => l.split(' '))
      .map(([k, n]) => [k, Number(n)]),
  )
  const lab = '{namespace="kube-system",pod="coredns-lab",container="coredns"}'
  return [
    '# HELP container_cpu_cfs_periods_total Number of elapsed enforcement period intervals.',
    '# TYPE container_cpu_cfs_periods_total counter',
    `container_cpu_cfs_periods_total${lab} ${v.nr_periods} ${endMs}`,
    '# HELP container_cpu_cfs_throttled_periods_total Number of throttled period intervals.',
    '# TYPE container_cpu_cfs_throttled_periods_total counter',
    `container_cpu_cfs_throttled_periods_total${lab} ${v.nr_throttled} ${endMs}`,
    '# HELP container_cpu_cfs_throttled_seconds_total Total time duration the container has been throttled.',
    '# TYPE container_cpu_cfs_throttled_seconds_total counter',
    `container_cpu_cfs_throttled_seconds_total${lab} ${(v.throttled_time / 1e9).toFixed(6)} ${endMs}`,
    '# HELP container_spec_cpu_quota CPU quota of the container.',
    '# TYPE container_spec_cpu_quota gauge',
    `container_spec_cpu_quota${lab} ${CPU_QUOTA.quotaUs} ${endMs}`,
    '# HELP container_spec_cpu_period CPU period of the container.',
    '# TYPE container_spec_cpu_period gauge',
    `container_spec_cpu_period${lab} ${CPU_QUOTA.periodUs} ${endMs}`,
    '',
  ].join('\n')
}

function buildTruth({
  replicas,
  bpftraceLost,
  dropOutput,
  id,
  sc,
  dir,
  bundle,
  resolvOptions,
  captures,
  rawTable,
  drops,
  state,
  marks,
}) {
  const ndots = Number((resolvOptions.match(/ndots:(\d+)/) ?? [])[1] ?? 1)
  const podDns = tsharkDns(join(bundle, 'pod.pcap'))
  const nodeDns = tsharkDns(join(bundle, 'node.pcap'))
  const upDns = tsharkDns(join(bundle, 'upstream.pcap'))
  const tap = dnstapMessages(join(bundle, 'coredns.dnstap'))
  const tap2 = replicas === 2 ? dnstapMessages(join(bundle, 'coredns-2.dnstap')) : []
  const log = ['client.jsonl', 'client1.jsonl']
    .filter((f) => existsSync(join(dir, f)))
    .flatMap((f) => clientLog(join(dir, f)))
  const client = computeClientTruth({ podDns, log, ndots, checkModel: sc.checkModel })
  const checks = [...client.checks]
  checks.push({ name: 'bpftrace lost no event', ok: !bpftraceLost, detail: bpftraceLost })
  checks.push({
    name: 'dns-drops.bt printed its banner, tracepoint format and header, then only rows',
    ok: dropOutput.banner && dropOutput.preamble.length > 0 && dropOutput.strays.length === 0,
    detail: { preambleLines: dropOutput.preamble.length, strays: dropOutput.strays.slice(0, 5) },
  })
  // The script traces the whole machine; the lab keeps the rows of its own namespaces.
  const labDrops = drops.filter((d) => d.where !== 'other')
  // A lab address lives only in a lab's namespaces (another lab's, when two run at once): a row of
  // one with no device (NETNS 0) or in the host's namespace would be lost by the split.
  const hostNetns = (/\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/net')) ?? [])[1]
  const strayLabDrops = drops.filter(
    (d) =>
      (d.netns === '0' || d.netns === hostNetns) &&
      [d.src, d.dst].some((a) => a.startsWith('10.253.')),
  )
  checks.push({
    name: 'every kernel drop of a lab address has a namespace (the NETNS split loses none)',
    ok: strayLabDrops.length === 0,
    detail: strayLabDrops.map((d) => d.line).slice(0, 5),
  })
  for (const [c, s] of Object.entries(captures))
    checks.push({
      name: `${c} lost nothing (its own counters)`,
      ok: s.droppedByKernel === 0 && s.captured === s.received,
      detail: s,
    })

  // Node: what entered it pre-DNAT and never left post-DNAT.
  const clients = new Set([ADDR.pod, ADDR.podPerf])
  const nd = nodeDrops(nodeDns, clients)
  const lossCounter = iptablesPackets(rawTable, 'dnslab-injected-loss')
  const nodeKernel = drops.filter((d) => d.where === 'node' && d.dport === 53 && clients.has(d.src))
  const droppedOnNode = Number.isFinite(lossCounter) ? lossCounter : 0
  checks.push({
    name: 'every pod query reached the node capture',
    ok: nd.pre === client.summary.clientQueries,
    detail: { node: nd.pre, pod: client.summary.clientQueries },
  })
  checks.push({
    name: 'dropped on node: iptables counter = pre-DNAT minus post-DNAT captures = bpftrace NETFILTER_DROP records',
    ok:
      nd.dropped.length === droppedOnNode &&
      nodeKernel.length === droppedOnNode &&
      nodeKernel.every((d) => d.reason === 'NETFILTER_DROP'),
    detail: { iptables: droppedOnNode, captures: nd.dropped.length, bpftrace: nodeKernel.length },
  })

  // Transactions every copy of which died on the node: the analyzer must put lastSeen there.
  const podKey = (p) => `${p.src}|${p.sport}|${p.id}|${p.qname}|${p.qtype}`
  // Pod and node clocks are the same clock, but a packet's two timestamps differ by microseconds:
  // match each dropped node copy to the pod copy with the same key sent just before it.
  const podCopyDropped = (p) =>
    nd.dropped.some((d) => podKey(d) === podKey(p) && d.t >= p.t && d.t - p.t < 50_000)
  const cq = [...tap, ...tap2].filter((m) => m.type === 'CLIENT_QUERY')
  const fullyDropped = client.txs.filter((tx) => !tx.response && tx.copies.every(podCopyDropped))
  const nodeDroppedTransactions = fullyDropped.map((tx) => {
    const s = txSummary(tx)
    const last = tx.copies.at(-1).t
    s.dnstapClientQuery = cq.some(
      (m) =>
        m.queryAddress === tx.client &&
        m.id === tx.id &&
        m.qname === tx.qname &&
        m.qtype === s.qtype &&
        m.t >= tx.firstSent - 1000 &&
        m.t <= last + 1_000_000,
    )
    // The kernel's record of each copy: same 4-tuple, within 100 ms (bpftrace prints µs wall time).
    s.kernelDrops = tx.copies.map(
      (c) =>
        nodeKernel.find((d) => d.sport === c.sport && Math.abs(d.timeUs - c.t) < 100_000)?.line ??
        null,
    )
    return s
  })
  checks.push({
    name: 'every copy of a fully dropped transaction has a bpftrace drop record',
    ok: nodeDroppedTransactions.every((t) => t.kernelDrops.every(Boolean)),
    detail: nodeDroppedTransactions.filter((t) => !t.kernelDrops.every(Boolean)).length,
  })
  checks.push({
    name: 'fully dropped transactions never reached the resolver (no dnstap CLIENT_QUERY)',
    ok: nodeDroppedTransactions.every((t) => !t.dnstapClientQuery),
    detail: nodeDroppedTransactions.length,
  })

  // Forwarder hop: the resolver's queries to the upstream, seen at the upstream's capture.
  const fq = upDns.filter((p) => !p.qr && p.src === ADDR.dnsUpSide && p.dst === ADDR.upstream)
  const fr = upDns.filter((p) => p.qr && p.dst === ADDR.dnsUpSide && p.src === ADDR.upstream)
  const answeredFq = new Set(fr.map((p) => `${p.dport}|${p.id}|${p.qname}|${p.qtype}`))
  const forwarderUnanswered = fq.filter(
    (p) => !answeredFq.has(`${p.sport}|${p.id}|${p.qname}|${p.qtype}`),
  ).length
  const tapFq = [...tap, ...tap2].filter((m) => m.type === 'FORWARDER_QUERY').length
  checks.push({
    name: 'forwarder queries: upstream capture = dnstap FORWARDER_QUERY',
    ok: tapFq === fq.length,
    detail: { capture: fq.length, dnstap: tapFq },
  })
  // Drops at a resolver's socket; the replica scenario's own DROP (NETFILTER_DROP) is counted by
  // its iptables rule, and cross-checked against these records below.
  const resolverDrops = drops.filter(
    (d) => (d.where === 'dns' || d.where === 'dns2') && d.dport === 53 && clients.has(d.src),
  )
  const socketDrops = resolverDrops.filter((d) => d.reason !== 'NETFILTER_DROP').length
  // unbound's own count, from the stats it logs when it stops; per resolver.
  const unboundQueriesOf = (name) =>
    Number(
      (/server stats for thread 0: (\d+) queries/.exec(
        safeRead(join(RUN_DIR, `${name}.log.err`)),
      ) ?? [])[1] ?? NaN,
    )
  const unboundQueries = unboundQueriesOf('unbound')
  const unboundQueries2 = replicas === 2 ? unboundQueriesOf('unbound2') : 0
  // The replica scenario drops queries inside the second resolver's namespace, before unbound.
  const replicaLoss = replicas === 2 ? iptablesPackets(state.replicaRaw, 'dnslab-replica-loss') : 0
  checks.push({
    name: "client queries that left the node = the resolvers' query counts + kernel drops at their sockets + injected drops before the second",
    ok: unboundQueries + unboundQueries2 + socketDrops + replicaLoss === nd.post,
    detail: {
      nodePostDnat: nd.post,
      unbound: unboundQueries,
      unbound2: unboundQueries2,
      resolverKernelDrops: socketDrops,
      replicaLoss,
    },
  })
  // dnstap is lossy by design: unbound drops messages when its dnstap queue is full, and under a
  // CPU quota the dnstap thread is throttled too. Only the overloaded scenario may lose any.
  const tapCq = tap.filter((m) => m.type === 'CLIENT_QUERY').length
  const tapCq2 = tap2.filter((m) => m.type === 'CLIENT_QUERY').length
  const dnstapLost = unboundQueries - tapCq + (unboundQueries2 - tapCq2)
  checks.push({
    name: 'dnstap CLIENT_QUERY = unbound query count, per resolver (except under overload, where dnstap drops)',
    ok: id === 'cpu' ? dnstapLost >= 0 : unboundQueries === tapCq && unboundQueries2 === tapCq2,
    detail: { unbound: unboundQueries, dnstap: tapCq, unbound2: unboundQueries2, dnstap2: tapCq2 },
  })

  const expected = { ...sc.expected }
  const extra = {}
  if (id === 'healthy') {
    checks.push({
      name: 'healthy: nothing unanswered, nothing dropped',
      ok: client.summary.unanswered === 0 && droppedOnNode === 0 && labDrops.length === 0,
      detail: { unanswered: client.summary.unanswered, drops: labDrops.length },
    })
  }
  if (id === 'drops') {
    checks.push({
      name: 'drops: some transaction lost every copy on the node',
      ok: nodeDroppedTransactions.length > 0,
      detail: nodeDroppedTransactions.length,
    })
  }
  if (id === 'replies') {
    extra.replyLoss = iptablesPackets(rawTable, 'dnslab-injected-reply-loss')
    checks.push({
      name: "replies: the node dropped some of the resolver's answers, and the client resent",
      ok: extra.replyLoss > 0 && client.summary.retransmits > 0,
      detail: { dropped: extra.replyLoss, retransmits: client.summary.retransmits },
    })
  }
  if (replicas === 2) {
    const ends = endpointTruth(client.txs, nodeDns)
    extra.byEndpoint = ends.byEndpoint
    extra.transactionsAcrossEndpoints = ends.acrossEndpoints
    extra.replicaLoss = replicaLoss
    // kube-proxy's DNAT rules count the flows (new conntrack entries) each endpoint got.
    const flows = {
      [ADDR.dns]: iptablesPackets(state.natTable, `udp to:${ADDR.dns}:53`),
      [ADDR.dns2]: iptablesPackets(state.natTable, `udp to:${ADDR.dns2}:53`),
    }
    checks.push({
      name: 'replica: flows to each endpoint in node.pcap = the DNAT rule counters',
      ok: ends.flows[ADDR.dns] === flows[ADDR.dns] && ends.flows[ADDR.dns2] === flows[ADDR.dns2],
      detail: { capture: ends.flows, iptables: flows },
    })
    const netfilter = resolverDrops.filter((d) => d.reason === 'NETFILTER_DROP')
    checks.push({
      name: 'replica: the DROP counter = bpftrace NETFILTER_DROP records, all in the second resolver',
      ok: netfilter.length === replicaLoss && netfilter.every((d) => d.where === 'dns2'),
      detail: { iptables: replicaLoss, bpftrace: netfilter.length },
    })
    checks.push({
      name: 'replica: every pod transaction placed at an endpoint, both endpoints got some',
      ok:
        ends.unplaced === 0 &&
        ends.byEndpoint[ADDR.dns].transactions > 0 &&
        ends.byEndpoint[ADDR.dns2].transactions > 0,
      detail: { unplaced: ends.unplaced, byEndpoint: ends.byEndpoint },
    })
    checks.push({
      name: 'replica: queries were lost before the second resolver only, and some transactions failed there',
      ok:
        replicaLoss > 0 &&
        ends.byEndpoint[ADDR.dns].failed === 0 &&
        ends.byEndpoint[ADDR.dns2].failed > 0,
      detail: { replicaLoss, byEndpoint: ends.byEndpoint },
    })
  }
  if (id === 'upstream') {
    extra.blackholeCounter = iptablesPackets(state.blackholeDrops, 'dnslab-upstream-blackhole')
    extra.upstreamKernelDrops = drops.filter((d) => d.where === 'up').length
    const failedExternal = client.lookups.filter((l) => l.outcome !== 'address')
    checks.push({
      name: 'upstream: only external names failed',
      ok: failedExternal.length > 0 && failedExternal.every((l) => !/^svc-|^database/.test(l.name)),
      detail: failedExternal.map((l) => `${l.name}:${l.outcome}`),
    })
    checks.push({
      name: 'upstream: forwarder queries went unanswered',
      ok: forwarderUnanswered > 0,
      detail: forwarderUnanswered,
    })
  }
  if (id === 'cpu') {
    const perfTruth = client.byClient[ADDR.podPerf]
    const sent = Object.values(state.perf).reduce((n, p) => n + p.sent, 0)
    const lost = Object.values(state.perf).reduce((n, p) => n + p.lost, 0)
    extra.dnsperf = state.perf
    extra.cpuStat = state.cpuStat
    extra.socketDrops = drops.filter(
      (d) => d.where === 'dns' && d.reason === 'SOCKET_RCVBUFF',
    ).length
    checks.push({
      name: 'cpu: dnsperf sent = its queries in the pod capture',
      ok: perfTruth?.clientQueries === sent,
      detail: { dnsperf: sent, capture: perfTruth?.clientQueries },
    })
    checks.push({
      name: 'cpu: dnsperf lost = its unanswered transactions',
      ok: perfTruth?.unanswered === lost,
      detail: { dnsperf: lost, capture: perfTruth?.unanswered },
    })
    checks.push({
      name: 'cpu: the resolver dropped queries at its socket (SOCKET_RCVBUFF)',
      ok: extra.socketDrops > 0,
      detail: extra.socketDrops,
    })
    checks.push({
      name: 'cpu: the resolver was throttled',
      ok: /nr_throttled [1-9]/.test(state.cpuStat),
      detail: state.cpuStat.trim(),
    })
  }

  return {
    schema: 'dnsbundle.lab-truth/v1',
    scenario: id,
    title: sc.title,
    expected,
    summary: {
      ...client.summary,
      forwarderQueries: fq.length,
      forwarderUnanswered,
    },
    droppedOnNode,
    dnstapLost,
    nodeDroppedTransactions,
    byClient: client.byClient,
    retransmitsByWindow: client.retransmitsByWindow,
    lookups: client.lookups,
    kernelDrops: Object.fromEntries(
      ['node', 'dns', 'up', 'pod', 'other'].map((w) => [
        w,
        drops.filter((d) => d.where === w).length,
      ]),
    ),
    captures,
    marks,
    ...extra,
    sources: {
      clientQueries:
        'tshark on bundle/pod.pcap: DNS queries (QR=0) from the pod addresses to port 53; every send counts',
      transactions:
        'report-contract definition applied to tshark fields of pod.pcap (key client, id, qname, qtype; retransmit only while unanswered, within 10 s); code in test/lab/lib/truth.mjs',
      unanswered: 'transactions with no response in pod.pcap',
      lookups:
        "the client's own log (client*.jsonl, one line per getaddrinfo call); dnsperf queries count one lookup each",
      failedLookups:
        'client log entries without an address (and dnsperf queries without an A answer)',
      searchExpansionQueries:
        'per successful client lookup, its transactions (attributed by time window and search-list candidates) whose qname is not the answering one',
      aaaaNoData:
        'AAAA transactions answered NOERROR with no AAAA record (tshark dns.aaaa empty; unbound runs with minimal-responses)',
      droppedOnNode:
        'iptables -t raw -L PREROUTING -v -x counter of the statistic DROP rule; cross-checked against node.pcap pre/post DNAT and bpftrace NETFILTER_DROP lines',
      forwarderQueries:
        'tshark on upstream.pcap: queries from the resolver to the upstream; cross-checked with dnstap-ldns FORWARDER_QUERY',
    },
    checks,
  }
}
