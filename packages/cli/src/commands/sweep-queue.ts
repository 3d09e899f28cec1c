// sweep-queue: the part of `faultline sweep --queue` that talks to the queue: enqueue the runs that have no result
// (the job id is the run's key, so a run already queued or done is not queued again), then wait for each, as the
// queue reports them, until every one is done, refused or failed for good, or Ctrl-C stops the waiting (the jobs
// stay queued: the same command later collects them).
import { Job, Queue } from 'bullmq';
import { parseQueueUrl, queueName, reachQueue, type RunJob } from '../queue.js';
import type { QueuedOutcome } from './queue-processor.js';

export interface QueuedRun {
  readonly key: string;
  readonly data: RunJob;
}

export interface QueueWatch {
  /** A run finished (or was refused: outcome.refused). */
  done(key: string, outcome: QueuedOutcome): void;
  /** A run failed for good (its attempts spent). */
  failed(key: string, why: string): void;
  stopped(): boolean;
  /** Counts so far, for the progress line. */
  progress(done: number, running: number, waiting: number): void;
}

const ATTEMPTS = 3;

/** A queued run's outcome as a result to store, or why a worker refused it. */
export function queuedResult(
  r: QueuedOutcome,
): { refused: string } | { figures: Record<string, number>; digest: string; error: string | null; hostMs: number } {
  if (r.refused) return { refused: `refused by a worker: ${r.refused}` };
  return { figures: r.figures ?? {}, digest: r.digest ?? '', error: r.error ?? null, hostMs: r.hostMs ?? 0 };
}

export async function runQueued(
  runs: readonly QueuedRun[],
  version: string,
  queueUrl: string,
  w: QueueWatch,
): Promise<string> {
  const url = parseQueueUrl(queueUrl);
  const name = queueName(url.name, version);
  const q = new Queue<RunJob, QueuedOutcome>(name, { connection: url.connection });
  await reachQueue(q, url);
  try {
    await q.addBulk(
      runs.map((r) => ({
        name: 'run',
        data: r.data,
        opts: {
          jobId: r.key,
          attempts: ATTEMPTS,
          backoff: { type: 'fixed', delay: 1000 },
          removeOnComplete: false,
          removeOnFail: false,
        },
      })),
    );
    const pending = new Set(runs.map((r) => r.key));
    while (pending.size > 0 && !w.stopped()) {
      let running = 0;
      for (const key of [...pending]) {
        // The state first, then the job: a job read just before it completed has no return value yet, though the
        // state read after it says completed (fast runs on warm workers met that race).
        const state = await q.getJobState(key);
        if (state === 'active') running++;
        if (state !== 'completed' && state !== 'failed') continue;
        const job = await Job.fromId<RunJob, QueuedOutcome>(q, key);
        if (!job) continue;
        if (state === 'completed') {
          pending.delete(key);
          w.done(key, job.returnvalue);
        } else if (job.attemptsMade >= ATTEMPTS) {
          pending.delete(key);
          w.failed(key, job.failedReason);
        }
      }
      w.progress(runs.length - pending.size, running, pending.size - running);
      if (pending.size > 0) await new Promise((go) => setTimeout(go, 250));
    }
    return `${url.shown} (queue ${name})`;
  } finally {
    await q.close();
  }
}
