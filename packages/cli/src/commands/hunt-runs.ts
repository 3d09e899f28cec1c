// hunt-runs: where a hunt's runs come from - read back from DIR/runs by their content key (a sweep's store), or
// computed on the local pool (piscina, compare-worker.ts) or on the job queue (sweep-queue.ts), each stored as it
// comes. Counts what it computed and read back; once interrupted (Ctrl-C), it starts nothing new.
import { join } from 'node:path';
import { Piscina } from 'piscina';
import type { ScenarioSpec } from '@faultline/scenarios';
import type { CompareJob, CompareOutcome } from './compare-worker.js';
import type { RunOf } from './hunt.js';
import { queuedResult, runQueued } from './sweep-queue.js';
import { readStored, storeRun } from './sweep-store.js';

/** One run wanted: its description and seed, its store key, and the candidate's point (for the stored file). */
export interface HuntJob {
  readonly key: string;
  readonly policy: string;
  readonly spec: ScenarioSpec;
  readonly seed: string;
  readonly workers: number;
  readonly point: Record<string, string>;
}

export class HuntRuns {
  computed = 0;
  reused = 0;
  interrupted = false;
  private readonly pool: Piscina | null;

  constructor(
    private readonly runsDir: string,
    private readonly version: string,
    private readonly o: { readonly queue?: string; readonly watchdog?: string; readonly threads: number },
  ) {
    this.pool = o.queue
      ? null
      : new Piscina({
          filename: new URL('./compare-worker.js', import.meta.url).href,
          minThreads: 1,
          maxThreads: o.threads,
          atomics: 'disabled',
        });
  }

  /** Ctrl-C: no new run starts. */
  interrupt(): void {
    this.interrupted = true;
    void this.pool?.destroy();
  }

  async close(): Promise<void> {
    await this.pool?.destroy();
  }

  /** Every job's run, by key: read back, or computed (all at once) and stored. */
  async runAll(jobs: readonly HuntJob[]): Promise<Map<string, RunOf>> {
    const got = new Map<string, RunOf>();
    const file = (j: HuntJob) => join(this.runsDir, `${j.key}.json`);
    for (const j of jobs) {
      const stored = got.has(j.key) ? null : readStored(file(j), j.key);
      if (!stored) continue;
      this.reused++;
      got.set(j.key, {
        policy: j.policy,
        key: j.key,
        figures: stored.figures,
        digest: stored.digest,
        error: stored.error,
      });
    }
    const todo = [...new Map(jobs.filter((j) => !got.has(j.key)).map((j) => [j.key, j])).values()];
    if (todo.length === 0) return got;
    if (this.interrupted) throw new Error('interrupted');
    const store = (j: HuntJob, r: Pick<CompareOutcome, 'figures' | 'digest' | 'error' | 'hostMs'>) => {
      this.computed++;
      storeRun(file(j), {
        ...r,
        key: j.key,
        version: this.version,
        point: j.point,
        policy: j.policy,
        seed: j.seed,
        spec: j.spec,
      });
      got.set(j.key, { policy: j.policy, key: j.key, figures: r.figures, digest: r.digest, error: r.error });
    };
    const lost = (j: HuntJob, error: string) =>
      got.set(j.key, { policy: j.policy, key: j.key, figures: {}, digest: '', error });
    if (this.o.queue) {
      // On the queue: the runs taken by `faultline worker`s; a run refused or failed for good is an error here.
      const byKey = new Map(todo.map((j) => [j.key, j]));
      await runQueued(
        todo.map((j) => ({ key: j.key, data: { spec: j.spec, seed: j.seed, version: this.version, point: {} } })),
        this.version,
        this.o.queue,
        {
          done: (key, r) => {
            const q = queuedResult(r);
            if ('refused' in q) lost(byKey.get(key)!, q.refused);
            else store(byKey.get(key)!, q);
          },
          failed: (key, why) => lost(byKey.get(key)!, `failed on the queue: ${why}`),
          stopped: () => this.interrupted,
          progress: () => undefined,
        },
      );
      if (this.interrupted) throw new Error('interrupted');
      return got;
    }
    await Promise.all(
      todo.map(async (j) => {
        const job: CompareJob = {
          spec: j.spec,
          seed: j.seed,
          workers: j.workers,
          report: false,
          ...(this.o.watchdog !== undefined ? { watchdog: this.o.watchdog } : {}),
        };
        const r = (await this.pool!.run(job)) as CompareOutcome;
        // An aborted run (a worker died, the watchdog) is not stored: the next hunt runs it again.
        if (r.endReason !== 'aborted') store(j, r);
        else got.set(j.key, { policy: j.policy, key: j.key, figures: r.figures, digest: r.digest, error: r.error });
      }),
    );
    return got;
  }
}
