// Types for the workerd tests: `env` and `exports` from cloudflare:workers are this worker's.
import type { Env as WorkerEnv } from '../../worker/env.js'

declare global {
  namespace Cloudflare {
    interface GlobalProps {
      mainModule: typeof import('../../worker/index.js')
    }
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- declaration merging
    interface Env extends WorkerEnv {}
  }
}
