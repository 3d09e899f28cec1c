// pool: engine worker threads kept warm between runs. A program that runs many simulations one after another (the
// CLI's compare and sweep threads) passes one EnginePool to each run; the run takes its workers from it and gives
// them back when it ended cleanly, so the thread's start-up, its module loading and its JIT warm-up are paid once
// per worker instead of once per run. A worker that died, hung, was killed or whose run was aborted is never given
// back: it is terminated. Each run initialises its workers from scratch (worker.ts's init replaces all its state),
// so a pooled run is the same run as a fresh one, digest for digest (tested in packages/scenarios/test/scenarios.test
// .ts across scenarios, kernels and worker counts; packages/engine/test/engine.test.ts for failed and dead runs).
import { Worker } from 'node:worker_threads';
import { releaseProxy, wrap, type Remote } from 'comlink';
import { nodeEndpoint } from './comlink-node.js';
import type { WorkerApi } from './worker.js';

/** A worker thread with its comlink proxy (kept across runs: releasing it closes the worker's port). */
export interface EngineWorker {
  readonly thread: Worker;
  readonly remote: Remote<WorkerApi>;
}

/** A new engine worker thread. It inherits the process's Node flags but --input-type, which Node refuses for a
 * worker's file (a script run as `node --input-type=module -e ...` would otherwise lose every worker). */
export function spawnEngineWorker(): EngineWorker {
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
  const thread = new Worker(new URL('./worker.js', import.meta.url), { execArgv });
  return { thread, remote: wrap<WorkerApi>(nodeEndpoint(thread)) };
}

/** Stop a worker for good. */
export async function terminateEngineWorker(w: EngineWorker): Promise<void> {
  w.thread.removeAllListeners('exit');
  w.thread.removeAllListeners('error');
  w.thread.on('error', () => undefined);
  w.remote[releaseProxy]();
  await w.thread.terminate();
}

export class EnginePool {
  private readonly idle: EngineWorker[] = [];
  private closed = false;
  /** Workers started by this pool, and runs that took at least one warm worker: what a benchmark reports. */
  spawned = 0;
  reused = 0;

  /**
   * @param keep how many idle workers the pool keeps at most; more given back are terminated.
   */
  constructor(readonly keep = 64) {
    if (!(Number.isInteger(keep) && keep >= 0))
      throw new RangeError(`EnginePool: keep ${keep} is not a whole number; allowed: 0 or more`);
  }

  /** `n` workers for a run: warm ones first, new ones for the rest. */
  take(n: number): EngineWorker[] {
    if (this.closed) throw new Error('EnginePool: take() after close()');
    const warm = this.idle.splice(0, n);
    if (warm.length > 0) this.reused++;
    for (const w of warm) {
      w.thread.removeAllListeners('exit');
      w.thread.removeAllListeners('error');
      w.thread.ref();
    }
    while (warm.length < n) {
      warm.push(spawnEngineWorker());
      this.spawned++;
    }
    return warm;
  }

  /** Workers whose run ended cleanly come back; an idle worker does not keep the process alive, and one that dies
   * while idle leaves the pool. */
  async give(workers: readonly EngineWorker[]): Promise<void> {
    for (const w of workers) {
      if (this.closed || this.idle.length >= this.keep) {
        await terminateEngineWorker(w);
        continue;
      }
      w.thread.removeAllListeners('exit');
      w.thread.removeAllListeners('error');
      const leave = () => {
        const i = this.idle.indexOf(w);
        if (i >= 0) this.idle.splice(i, 1);
      };
      w.thread.once('exit', leave);
      w.thread.once('error', leave);
      // The finished run's memory (its node, rings and modules) is dropped now, not at the next run's init (a message
      // the next init follows on the same port).
      w.remote.release().catch(() => undefined);
      w.thread.unref();
      this.idle.push(w);
    }
  }

  /** Workers waiting for a run. */
  get size(): number {
    return this.idle.length;
  }

  /** Terminate the idle workers; the pool takes no more runs. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.idle.splice(0).map(terminateEngineWorker));
  }
}
