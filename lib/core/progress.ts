// Progress for long loops: a bar with ETA on a terminal (cli-progress), plain periodic lines when
// the output is not a terminal (CI logs, pipes), and nothing at all when silenced.
import cliProgress from 'cli-progress';

/** Options for a progress reporter. */
export interface ProgressOptions {
  /** Label shown before the bar. */
  label?: string;
  /** Where to draw; defaults to stderr so stdout stays clean for results. */
  stream?: NodeJS.WriteStream;
  /** 'auto' (bar on a TTY, lines otherwise), 'bar', 'lines' or 'silent'. */
  mode?: 'auto' | 'bar' | 'lines' | 'silent';
  /** In line mode, print at most every this many milliseconds (default 5000). */
  intervalMs?: number;
}

/** Reports progress of `total` steps with values such as the current loss. */
export class Progress {
  readonly total: number;
  readonly #label: string;
  readonly #stream: NodeJS.WriteStream;
  readonly #mode: 'bar' | 'lines' | 'silent';
  readonly #intervalMs: number;
  readonly #start = Date.now();
  #bar: cliProgress.SingleBar | undefined;
  #lastLine = 0;
  #done = 0;

  /** @param total number of steps; @param options display options */
  constructor(total: number, options: ProgressOptions = {}) {
    this.total = total;
    this.#label = options.label ?? 'progress';
    this.#stream = options.stream ?? process.stderr;
    const mode = options.mode ?? 'auto';
    this.#mode = mode === 'auto' ? (this.#stream.isTTY ? 'bar' : 'lines') : mode;
    this.#intervalMs = options.intervalMs ?? 5000;
    if (this.#mode === 'bar') {
      this.#bar = new cliProgress.SingleBar(
        {
          stream: this.#stream,
          format: `${this.#label} [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted} | {info}`,
          hideCursor: true,
          clearOnComplete: false,
        },
        cliProgress.Presets.shades_classic,
      );
      this.#bar.start(total, 0, { info: '' });
    }
  }

  /** Mark `done` steps complete; `info` is shown beside the bar (e.g. `loss 0.231`). */
  update(done: number, info = ''): void {
    this.#done = done;
    if (this.#mode === 'bar') {
      this.#bar?.update(done, { info });
    } else if (this.#mode === 'lines') {
      const now = Date.now();
      if (now - this.#lastLine >= this.#intervalMs || done >= this.total) {
        this.#lastLine = now;
        const elapsed = (now - this.#start) / 1000;
        const eta = done > 0 ? (elapsed / done) * (this.total - done) : NaN;
        this.#stream.write(
          `${this.#label}: ${done}/${this.total} (${((100 * done) / this.total).toFixed(0)}%)` +
            `, ${elapsed.toFixed(1)} s elapsed${Number.isFinite(eta) ? `, ETA ${eta.toFixed(0)} s` : ''}` +
            (info ? `, ${info}` : '') +
            '\n',
        );
      }
    }
  }

  /** Advance by one step. */
  tick(info = ''): void {
    this.update(this.#done + 1, info);
  }

  /** Finish the bar (leaves the final state on screen). */
  stop(): void {
    this.#bar?.stop();
  }
}
