// A progress bar on stderr for big inputs; silent when stderr is not a terminal-like stream.
export class ProgressBar {
  private last = -1
  constructor(private readonly out: NodeJS.WriteStream) {}

  update(done: number, total: number, phase: string): void {
    const pct = total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 0
    if (pct === this.last && phase === 'import') return
    this.last = pct
    const width = 30
    const filled = Math.round((pct / 100) * width)
    const line = `${phase.padEnd(9)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(pct).padStart(3)}% ${(done / 1e6).toFixed(1)}/${(total / 1e6).toFixed(1)} MB`
    this.out.write(this.out.isTTY ? `\r${line}` : `${line}\n`)
  }

  finish(): void {
    if (this.out.isTTY) this.out.write('\n')
  }
}
