// Runs in Node before the workerd tests. workerd cannot read files, so the bundles are handed over
// with provide(): the example bundle (examples/incident-bundle.zip, a dnscap capture + manifest)
// and a bundle of real evidence of other kinds from the corpus (dnstap, CoreDNS log, CoreDNS
// metrics), with the report Node's run of the core makes of it, to compare with workerd's.
import { readFileSync } from 'node:fs'
import { zipSync } from 'fflate'
import type { TestProject } from 'vitest/node'
import { analyzeBundle } from '../../core/analyze.js'
import { openZip } from '../../core/bundle/zip.js'
import { corpus } from '../corpus.js'
import pkg from '../../package.json'

declare module 'vitest' {
  export interface ProvidedContext {
    exampleBundle: string
    mixedBundle: string
    mixedReportFromNode: string
  }
}

export default function setup(project: TestProject): void {
  const example = readFileSync(new URL('../../examples/incident-bundle.zip', import.meta.url))
  project.provide('exampleBundle', example.toString('base64'))

  const mixed = zipSync({
    'dnstap/pktvisor.dnstap': readFileSync(corpus('dnstap/pktvisor_fixture.dnstap')),
    'logs/coredns.log': readFileSync(
      corpus('coredns-log/kubernetes-kubernetes-80243_rfc3339-ts_mixed.log'),
    ),
    'metrics/coredns.prom': readFileSync(
      corpus('metrics/coredns-coredns-3498_coredns-1.6.5_dump-head_multi-server.prom'),
    ),
  })
  project.provide('mixedBundle', Buffer.from(mixed).toString('base64'))
  const report = analyzeBundle(openZip(mixed), { version: pkg.version, detail: true })
  project.provide('mixedReportFromNode', JSON.stringify(report))
}
