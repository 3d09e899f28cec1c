// pool: the runs of `compare` and a local `sweep` on a piscina pool, one whole simulation a thread
// (commands/compare-worker.ts), with a progress line, and Ctrl-C: no new run starts, and what finished is kept.
import { Piscina } from 'piscina';
import type { CompareJob, CompareOutcome } from './commands/compare-worker.js';
import { watchProgress } from './progress.js';
import { onInterrupt } from './supervise.js';

export interface PoolRun {
  /** Each run's outcome, or why its thread failed, in job order. */
  readonly settled: ReadonlyArray<PromiseSettledResult<CompareOutcome>>;
  /** Ctrl-C ended it: the runs not started are rejected. */
  readonly interrupted: boolean;
}

/** Run the jobs `threads` at a time; `each` sees every outcome as it comes (a sweep stores it at once). */
export async function runOnPool(
  jobs: readonly CompareJob[],
  threads: number,
  title: string,
  onCtrlC: string,
  each: (i: number, outcome: CompareOutcome) => void = () => undefined,
): Promise<PoolRun> {
  const pool = new Piscina({
    filename: new URL('./commands/compare-worker.js', import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
    atomics: 'disabled',
  });
  let done = 0;
  const stop = watchProgress(title, {
    fraction: () => done / jobs.length,
    label: () => `${done} of ${jobs.length} runs`,
  });
  let interrupted = false;
  const quiet = onInterrupt(
    () => {
      interrupted = true;
      void pool.destroy();
    },
    process.stderr,
    onCtrlC,
  );
  try {
    const settled = await Promise.allSettled(
      jobs.map(async (j, i) => {
        const r = (await pool.run(j)) as CompareOutcome;
        done++;
        each(i, r);
        return r;
      }),
    );
    return { settled, interrupted };
  } finally {
    quiet();
    stop();
    await pool.destroy();
  }
}
