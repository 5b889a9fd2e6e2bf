// Builds the CLI once before the suite, so tests run `dist/dnsbundle.mjs` as users do.
import { execFileSync } from 'node:child_process'

export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build-cli.mjs'], { stdio: 'inherit' })
}
