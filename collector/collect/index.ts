// `dnsbundle collect`: gathers a DNS incident's evidence from a cluster (kubectl) and/or the node
// it runs on into one bundle zip with a manifest.json. What cannot be collected is noted in the
// manifest, never fatal: a partial bundle is still worth analyzing.
import { userInfo, hostname } from 'node:os'
import { BundleWriter } from './bundle-writer.js'
import { collectCluster, type ClusterOptions } from './cluster.js'
import { collectNode, defaultNodeName, type NodeOptions } from './node.js'

export interface CollectOptions
  extends Omit<ClusterOptions, 'log' | 'now'>, Omit<NodeOptions, 'log' | 'now' | 'nodeName'> {
  out: string
  cluster: boolean
  node: boolean
  nodeName?: string
  log: (msg: string) => void
  now?: () => Date
}

export async function collect(o: CollectOptions): Promise<{ files: number; notes: number }> {
  const now = o.now ?? (() => new Date())
  let user: string | undefined
  try {
    user = userInfo().username
  } catch {
    user = undefined
  }
  const w = new BundleWriter(now(), user, hostname())
  if (o.cluster) await collectCluster(w, { ...o, now })
  if (o.node) await collectNode(w, { ...o, nodeName: o.nodeName ?? defaultNodeName(), now })
  w.write(o.out)
  return { files: w.fileCount, notes: w.manifest.notes?.length ?? 0 }
}
