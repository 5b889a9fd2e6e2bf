// Runs in Node before the workerd tests: workerd cannot read files, so the real example bundle
// (examples/incident-bundle.zip, a dnscap capture + manifest) is handed over with provide().
import { readFileSync } from 'node:fs'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    exampleBundle: string
  }
}

export default function setup(project: TestProject): void {
  const zip = readFileSync(new URL('../../examples/incident-bundle.zip', import.meta.url))
  project.provide('exampleBundle', zip.toString('base64'))
}
