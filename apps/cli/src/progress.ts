/** A one-line progress bar on stderr (redrawn in place on a terminal, a few lines otherwise). */
export class ProgressBar {
  private lastPrinted = -1;
  private readonly tty: boolean;

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly enabled = true,
  ) {
    this.tty = stream.isTTY === true;
  }

  update(done: number, total: number | undefined, detail = ""): void {
    if (!this.enabled) return;
    const fraction = total !== undefined && total > 0 ? Math.min(1, done / total) : undefined;
    if (this.tty) {
      const width = 28;
      const filled = fraction === undefined ? 0 : Math.round(fraction * width);
      const bar = fraction === undefined ? "" : `[${"=".repeat(filled)}${" ".repeat(width - filled)}] `;
      this.stream.write(`\r${this.label} ${bar}${done}${total !== undefined ? `/${total}` : ""} ${detail}\x1b[K`);
      return;
    }
    // Not a terminal: print at each quarter.
    const step = fraction === undefined ? -1 : Math.floor(fraction * 4);
    if (step > this.lastPrinted) {
      this.lastPrinted = step;
      this.stream.write(`${this.label} ${done}${total !== undefined ? `/${total}` : ""} ${detail}\n`);
    }
  }

  done(message: string): void {
    if (!this.enabled) return;
    this.stream.write(this.tty ? `\r${message}\x1b[K\n` : `${message}\n`);
  }
}
