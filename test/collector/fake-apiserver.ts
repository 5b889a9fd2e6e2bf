// A stand-in Kubernetes API server for collector tests: a Kubernetes API server cannot run here,
// so this one speaks the real wire protocol kubectl uses (HTTP/1.1, JSON objects of the core/v1
// and apps/v1 kinds, `Status` bodies for errors, text/plain pod logs and proxied metrics) and
// serves real evidence from the corpus. It records every request so tests can see what the real
// kubectl asked for.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface FakeCluster {
  pods: { name: string; node: string; ip: string; log: string; metrics: string[] }[]
  serviceIp: string
  corefile: string
  kubeProxyConf: string
  nodes: { name: string; kernel: string; ip: string }[]
  cpuLimit: string
  /** Paths that answer 403 Forbidden, to test partial collection. */
  forbidden?: RegExp
}

export interface FakeApiServer {
  url: string
  requests: { method: string; path: string; userAgent: string }[]
  close(): Promise<void>
}

export async function startFakeApiServer(c: FakeCluster): Promise<FakeApiServer> {
  const requests: FakeApiServer['requests'] = []
  const metricsCalls = new Map<string, number>()
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x')
    requests.push({
      method: req.method ?? '',
      path: url.pathname + url.search,
      userAgent: String(req.headers['user-agent'] ?? ''),
    })
    if (c.forbidden?.test(url.pathname))
      return status(
        res,
        403,
        'Forbidden',
        `forbidden: User "system:anonymous" cannot get path "${url.pathname}"`,
      )
    const p = url.pathname
    const ns = '/api/v1/namespaces/kube-system'
    if (p === `${ns}/services/kube-dns`)
      return json(res, {
        kind: 'Service',
        apiVersion: 'v1',
        metadata: { name: 'kube-dns', namespace: 'kube-system' },
        spec: {
          clusterIP: c.serviceIp,
          clusterIPs: [c.serviceIp],
          ports: [{ name: 'dns', port: 53, protocol: 'UDP' }],
        },
      })
    if (p === `${ns}/endpoints/kube-dns`)
      return json(res, {
        kind: 'Endpoints',
        apiVersion: 'v1',
        metadata: { name: 'kube-dns' },
        subsets: [
          {
            addresses: c.pods.map((pod) => ({
              ip: pod.ip,
              nodeName: pod.node,
              targetRef: { kind: 'Pod', name: pod.name },
            })),
            ports: [{ name: 'dns', port: 53, protocol: 'UDP' }],
          },
        ],
      })
    if (p === `${ns}/pods`) {
      if (url.searchParams.get('labelSelector') !== 'k8s-app=kube-dns')
        return json(res, { kind: 'PodList', apiVersion: 'v1', items: [] })
      return json(res, {
        kind: 'PodList',
        apiVersion: 'v1',
        metadata: {},
        items: c.pods.map((pod) => podObject(pod, c.cpuLimit)),
      })
    }
    if (p === `${ns}/configmaps/coredns`)
      return json(res, {
        kind: 'ConfigMap',
        apiVersion: 'v1',
        metadata: { name: 'coredns' },
        data: { Corefile: c.corefile },
      })
    if (p === `${ns}/configmaps/kube-proxy`)
      return json(res, {
        kind: 'ConfigMap',
        apiVersion: 'v1',
        metadata: { name: 'kube-proxy' },
        data: { 'config.conf': c.kubeProxyConf },
      })
    if (p === '/apis/apps/v1/namespaces/kube-system/deployments/coredns')
      return json(res, {
        kind: 'Deployment',
        apiVersion: 'apps/v1',
        metadata: { name: 'coredns', namespace: 'kube-system' },
        spec: {
          replicas: c.pods.length,
          template: { spec: podObject(c.pods[0], c.cpuLimit).spec },
        },
      })
    if (p === '/api/v1/nodes')
      return json(res, {
        kind: 'NodeList',
        apiVersion: 'v1',
        items: c.nodes.map((n) => ({
          metadata: { name: n.name },
          status: {
            addresses: [
              { type: 'InternalIP', address: n.ip },
              { type: 'Hostname', address: n.name },
            ],
            nodeInfo: { kernelVersion: n.kernel, kubeProxyVersion: 'v1.29.3' },
          },
        })),
      })
    for (const pod of c.pods) {
      if (p === `${ns}/pods/${pod.name}/log`) {
        if (url.searchParams.get('timestamps') !== 'true')
          return status(res, 400, 'BadRequest', 'expected timestamps=true')
        return text(res, pod.log)
      }
      if (p === `${ns}/pods/${pod.name}:9153/proxy/metrics`) {
        const n = metricsCalls.get(pod.name) ?? 0
        metricsCalls.set(pod.name, n + 1)
        return text(res, pod.metrics[Math.min(n, pod.metrics.length - 1)])
      }
    }
    status(res, 404, 'NotFound', `the server could not find the requested resource (get ${p})`)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((r) => server.close(() => r())),
  }
}

function podObject(pod: FakeCluster['pods'][number], cpuLimit: string) {
  return {
    metadata: { name: pod.name, namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
    spec: {
      nodeName: pod.node,
      containers: [
        {
          name: 'coredns',
          image: 'registry.k8s.io/coredns/coredns:v1.11.1',
          resources: {
            limits: { cpu: cpuLimit, memory: '170Mi' },
            requests: { cpu: '100m', memory: '70Mi' },
          },
        },
      ],
    },
    status: { phase: 'Running', podIP: pod.ip, podIPs: [{ ip: pod.ip }] },
  }
}

function json(res: ServerResponse, body: object): void {
  res.writeHead(200, { 'Content-Type': 'application/json' })
  res.end(JSON.stringify(body))
}

function text(res: ServerResponse, body: string): void {
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' })
  res.end(body)
}

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  res.writeHead(code, { 'Content-Type': 'application/json' })
  res.end(
    JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      code,
    }),
  )
}
