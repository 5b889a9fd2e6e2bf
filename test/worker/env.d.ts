// Types for the workerd tests: `env` and `exports` from cloudflare:workers are this worker's.
declare namespace Cloudflare {
  interface GlobalProps {
    mainModule: typeof import('../../worker/index.js')
  }
  interface Env extends import('../../worker/env.js').Env {}
}
