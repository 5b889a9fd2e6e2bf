// A progress bar on stderr for big inputs: redrawn in place on a terminal, one line per step
// of 5% otherwise (a CI log should not get a hundred lines).
export class ProgressBar {
  private last = -1
  private phase = ''
  constructor(private readonly out: NodeJS.WriteStream) {}

  update(done: number, total: number, phase: string): void {
    if (phase !== 'import') {
      // Correlation, rules and the report have no byte count: say which step is running.
      if (phase !== this.phase) this.out.write(`${this.out.isTTY ? '\n' : ''}${phase}…\n`)
      this.phase = phase
      return
    }
    this.phase = phase
    const pct = total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 0
    const step = this.out.isTTY ? 1 : 5
    if (Math.floor(pct / step) === Math.floor(this.last / step)) return
    this.last = pct
    const width = 30
    const filled = Math.round((pct / 100) * width)
    const line = `import    [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(pct).padStart(3)}% ${(done / 1e6).toFixed(1)}/${(total / 1e6).toFixed(1)} MB`
    this.out.write(this.out.isTTY ? `\r${line}` : `${line}\n`)
  }

  finish(): void {
    if (this.out.isTTY) this.out.write('\n')
  }
}
