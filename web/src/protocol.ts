// Messages between the page and the analysis worker. Kept tiny so the engine can move (to a
// server, say) without the UI noticing: the UI only ever sees engine.ts.
import type { Report } from '../../core/model/report.js'

/** One input for the analysis: a file, with the path it had in a dropped folder. */
export interface EngineInput {
  path: string
  file: Blob
}

export interface EngineProgress {
  phase: 'read' | 'unzip' | 'import' | 'correlate' | 'rules' | 'report'
  /** The input being read or imported. */
  path?: string
  /** Bytes done and total in this phase (0/0 when the phase has no byte measure). */
  done: number
  total: number
}

export type ToWorker = { type: 'analyze'; inputs: EngineInput[]; version: string }

export type FromWorker =
  | { type: 'progress'; progress: EngineProgress }
  | { type: 'done'; report: Report }
  | { type: 'error'; message: string }
