// queue-processor: one queued run, in a BullMQ sandboxed worker thread (`faultline worker`): the job is checked
// first (queue.ts: refusal), then run as compare and sweep run theirs (compare-worker.ts). A refused job completes
// with the reason instead of a result, so it is reported and never retried; a run whose worker died or hung throws,
// so that BullMQ retries it (perhaps on another machine); any other outcome, a task's error included, is the result.
import type { SandboxedJob } from 'bullmq';
import { modelVersion } from '../model-version.js';
import { refusal, type RunJob } from '../queue.js';
import run from './compare-worker.js';

export interface QueuedOutcome {
  readonly refused?: string;
  readonly figures?: Record<string, number>;
  readonly digest?: string;
  readonly error?: string | null;
  readonly hostMs?: number;
  readonly worker?: string;
}

export default async function process(job: SandboxedJob<RunJob>): Promise<QueuedOutcome> {
  const why = refusal(job, modelVersion());
  if (why) return { refused: why };
  const r = await run({ spec: job.data.spec, seed: job.data.seed, workers: 1, report: false });
  if (r.endReason === 'aborted') throw new Error(r.error ?? 'the run was aborted');
  return {
    figures: r.figures,
    digest: r.digest,
    error: r.error,
    hostMs: r.hostMs,
    worker: `pid ${globalThis.process.pid}`,
  };
}
