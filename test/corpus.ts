// Where the shared corpus of real evidence lives: beside the repository (../shared/corpus), as CI
// lays it out, or at /work/shared/corpus on a developer machine.
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'

const repoRoot = resolve(import.meta.dirname, '..')
const candidates = [resolve(repoRoot, '../shared/corpus'), '/work/shared/corpus']

export const CORPUS = candidates.find((p) => existsSync(p)) ?? candidates[0]
export const REPO_ROOT = repoRoot

export function corpus(...parts: string[]): string {
  return resolve(CORPUS, ...parts)
}
