// Cluster-side collection through kubectl: the DNS Service and its endpoints, the CoreDNS pods'
// logs (with kubectl's timestamps), two metrics snapshots, the Corefile, the CoreDNS deployment
// (CPU limits), kube-proxy's mode and every node's kernel. Everything goes through
// `kubectl get --raw`, which works the same on every kubectl version and needs no discovery.
import { execFile } from 'node:child_process'
import type { BundleWriter } from './bundle-writer.js'
import { toYaml } from './to-yaml.js'

export interface ClusterOptions {
  kubectl: string
  /** Extra kubectl flags: --kubeconfig, --context, --server... */
  kubectlArgs: string[]
  namespace: string
  /** Label selector of the DNS pods. */
  selector: string
  service: string
  /** How far back logs go, in seconds. */
  sinceSeconds: number
  /** Seconds between the two metrics snapshots (0: one snapshot). */
  metricsInterval: number
  metricsPort: number
  log: (msg: string) => void
  now: () => Date
}

interface K8sList<T> {
  items: T[]
}
interface Pod {
  metadata: { name: string; namespace: string }
  spec: {
    nodeName?: string
    containers: { name: string; resources?: { limits?: Record<string, string> } }[]
  }
  status: { podIP?: string; podIPs?: { ip: string }[]; phase?: string }
}
interface Node {
  metadata: { name: string }
  status: { nodeInfo?: { kernelVersion?: string }; addresses?: { type: string; address: string }[] }
}

export class Kubectl {
  constructor(private readonly opts: Pick<ClusterOptions, 'kubectl' | 'kubectlArgs'>) {}

  /** GETs an API path; resolves to the body, rejects with kubectl's own error text. */
  raw(path: string): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        this.opts.kubectl,
        [...this.opts.kubectlArgs, 'get', '--raw', path],
        { maxBuffer: 512 * 1024 * 1024, timeout: 120_000 },
        (err, stdout, stderr) => {
          if (err) reject(new Error((stderr || err.message).trim().split('\n').slice(-1)[0]))
          else resolve(stdout)
        },
      )
    })
  }

  async json<T>(path: string): Promise<T> {
    return JSON.parse(await this.raw(path)) as T
  }
}

export async function collectCluster(w: BundleWriter, o: ClusterOptions): Promise<void> {
  const k = new Kubectl(o)
  const ns = encodeURIComponent(o.namespace)
  const attempt = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn()
    } catch (e) {
      w.note(`${what}: ${(e as Error).message}`)
      o.log(`  ${what}: failed (${(e as Error).message})`)
      return undefined
    }
  }

  o.log('cluster: DNS service and endpoints')
  const svc = await attempt('service', () =>
    k.json<{ spec: { clusterIP?: string; clusterIPs?: string[] } }>(
      `/api/v1/namespaces/${ns}/services/${o.service}`,
    ),
  )
  const eps = await attempt('endpoints', () =>
    k.json<{ subsets?: { addresses?: { ip: string }[]; notReadyAddresses?: { ip: string }[] }[] }>(
      `/api/v1/namespaces/${ns}/endpoints/${o.service}`,
    ),
  )
  w.manifest.cluster = {
    dnsServiceIps: svc ? (svc.spec.clusterIPs ?? [svc.spec.clusterIP ?? '']).filter(Boolean) : [],
    dnsEndpoints: (eps?.subsets ?? []).flatMap((s) =>
      [...(s.addresses ?? []), ...(s.notReadyAddresses ?? [])].map((a) => a.ip),
    ),
  }

  o.log('cluster: DNS pods')
  const pods =
    (
      await attempt('pods', () =>
        k.json<K8sList<Pod>>(
          `/api/v1/namespaces/${ns}/pods?labelSelector=${encodeURIComponent(o.selector)}`,
        ),
      )
    )?.items ?? []
  if (pods.length === 0) w.note(`no pods matched ${o.selector} in ${o.namespace}`)

  const coreFile = await attempt('Corefile', async () => {
    const cm = await k.json<{ data?: Record<string, string> }>(
      `/api/v1/namespaces/${ns}/configmaps/coredns`,
    )
    return cm.data?.Corefile
  })
  if (coreFile)
    w.add('config/Corefile', coreFile, {
      kind: 'corefile',
      vantage: { id: 'coredns-config', type: 'dns-server', name: 'Corefile' },
    })

  const deploy = await attempt('deployment', () =>
    k.json<object>(`/apis/apps/v1/namespaces/${ns}/deployments/coredns`),
  )
  if (deploy)
    w.add('config/coredns-deployment.yaml', toYaml(deploy), {
      kind: 'k8s-manifest',
      vantage: { id: 'coredns-config', type: 'dns-server', name: 'coredns deployment' },
    })

  const proxyConf = await attempt('kube-proxy config', async () => {
    const cm = await k.json<{ data?: Record<string, string> }>(
      '/api/v1/namespaces/kube-system/configmaps/kube-proxy',
    )
    return cm.data?.['config.conf']
  })
  if (proxyConf) {
    w.add('config/kube-proxy-config.conf', proxyConf, {
      kind: 'kube-proxy-mode',
      vantage: { id: 'kube-proxy', type: 'node', name: 'kube-proxy' },
    })
    const mode = /^mode:\s*"?([a-z]*)"?/m.exec(proxyConf)?.[1]
    w.manifest.cluster!.kubeProxyMode = mode || 'iptables'
  }

  o.log('cluster: nodes')
  const nodes = (await attempt('nodes', () => k.json<K8sList<Node>>('/api/v1/nodes')))?.items ?? []
  for (const n of nodes) {
    const kernel = n.status.nodeInfo?.kernelVersion
    if (!kernel) continue
    w.add(`nodes/${n.metadata.name}/uname-r.txt`, kernel + '\n', {
      kind: 'uname',
      command: 'kubectl get node (status.nodeInfo.kernelVersion)',
      vantage: {
        id: `node/${n.metadata.name}`,
        type: 'node',
        name: n.metadata.name,
        node: n.metadata.name,
        addresses: (n.status.addresses ?? [])
          .filter((a) => a.type.endsWith('IP'))
          .map((a) => a.address),
      },
    })
  }

  const windowEnd = o.now()
  const windowStart = new Date(windowEnd.getTime() - o.sinceSeconds * 1000)
  for (const pod of pods) {
    const name = pod.metadata.name
    const vantage = {
      id: `dns/${name}`,
      type: 'dns-server' as const,
      name,
      node: pod.spec.nodeName,
      addresses:
        pod.status.podIPs?.map((p) => p.ip) ?? (pod.status.podIP ? [pod.status.podIP] : []),
    }
    const container =
      pod.spec.containers.find((c) => c.name === 'coredns')?.name ?? pod.spec.containers[0]?.name
    o.log(`cluster: logs of ${name}`)
    const logs = await attempt(`logs of ${name}`, () =>
      k.raw(
        `/api/v1/namespaces/${ns}/pods/${encodeURIComponent(name)}/log?timestamps=true&sinceSeconds=${o.sinceSeconds}` +
          (container ? `&container=${encodeURIComponent(container)}` : ''),
      ),
    )
    if (logs !== undefined)
      w.add(`dns/${name}/coredns.log`, logs, {
        kind: 'coredns-log',
        command: `kubectl logs --timestamps --since=${o.sinceSeconds}s -n ${o.namespace} ${name}`,
        vantage,
        window: { start: windowStart.toISOString(), end: windowEnd.toISOString() },
      })
    const metrics = await collectMetrics(k, ns, name, o)
    if (metrics) w.add(`dns/${name}/metrics.prom`, metrics, { kind: 'prometheus', vantage })
    else
      w.note(
        `metrics of ${name}: not reachable through the API server proxy on port ${o.metricsPort}`,
      )
  }
}

/** Two snapshots `interval` seconds apart, each behind a `# dnsbundle-snapshot <time>` line. */
async function collectMetrics(
  k: Kubectl,
  ns: string,
  pod: string,
  o: ClusterOptions,
): Promise<string | undefined> {
  const path = `/api/v1/namespaces/${ns}/pods/${encodeURIComponent(pod)}:${o.metricsPort}/proxy/metrics`
  const snapshots: string[] = []
  for (let i = 0; i < (o.metricsInterval > 0 ? 2 : 1); i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, o.metricsInterval * 1000))
    try {
      const body = await k.raw(path)
      snapshots.push(
        `# dnsbundle-snapshot ${o.now().toISOString()}\n${body.endsWith('\n') ? body : body + '\n'}`,
      )
    } catch {
      break
    }
  }
  return snapshots.length ? snapshots.join('') : undefined
}
