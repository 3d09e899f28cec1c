// progress: a progress bar (cli-progress) for anything that runs longer than a second, drawn on stderr so that
// stdout stays the report. It reads the simulation's progress from shared memory, which costs the run nothing,
// and stays silent when stderr is not a terminal or FAULTLINE_NO_PROGRESS is set. cli-progress (about 10 ms to load)
// is imported only by a watch that may draw, while the work runs, not by every start of the command.
import type { SingleBar } from 'cli-progress';

export const PROGRESS_DELAY_MS = 1_000;
const REFRESH_MS = 200;

export interface ProgressSource {
  /** 0 .. 1 */
  fraction(): number;
  /** A short text beside the bar: simulated time reached, runs done, ... */
  label(): string;
}

/** Start watching; the bar appears only once the work has taken longer than PROGRESS_DELAY_MS. Call the returned stop. */
export function watchProgress(title: string, source: ProgressSource): () => void {
  if (!process.stderr.isTTY || process.env.FAULTLINE_NO_PROGRESS) return () => undefined;
  let bar: SingleBar | null = null;
  let lib: typeof import('cli-progress') | null = null;
  import('cli-progress').then(
    (m) => {
      lib = m;
    },
    () => undefined, // no bar, the work goes on
  );
  const started = performance.now();
  const timer = setInterval(() => {
    if (bar === null) {
      if (performance.now() - started < PROGRESS_DELAY_MS || lib === null) return;
      const { SingleBar, Presets } = lib;
      bar = new SingleBar(
        {
          format: `${title} [{bar}] {percentage}% | {label} | {duration_formatted}`,
          stream: process.stderr,
          hideCursor: true,
          clearOnComplete: true,
        },
        Presets.shades_classic,
      );
      bar.start(1000, 0, { label: source.label() });
    }
    bar.update(Math.round(source.fraction() * 1000), { label: source.label() });
  }, REFRESH_MS);
  return () => {
    clearInterval(timer);
    bar?.stop();
  };
}
