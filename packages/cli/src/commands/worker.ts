// worker: `faultline worker --queue redis://host:port/name`: takes a sweep's queued runs (queue.ts) for this
// faultline's model version and runs each in a sandboxed worker thread (BullMQ), `--concurrency` at a time, until
// Ctrl-C or SIGTERM, when it finishes what it holds and leaves. Each job it starts and ends is a line on stdout.
import os from 'node:os';
import { Worker } from 'bullmq';
import { modelVersion } from '../model-version.js';
import { parseQueueUrl, queueName, reachQueue } from '../queue.js';

export interface WorkerOptions {
  readonly queue: string;
  readonly concurrency?: number;
}

export async function workerCommand(o: WorkerOptions): Promise<void> {
  const url = parseQueueUrl(o.queue);
  const version = modelVersion();
  const name = queueName(url.name, version);
  const concurrency = o.concurrency ?? os.availableParallelism();
  // How long a job stays ours without a heartbeat before another worker may take it (BullMQ's lock), and how often
  // stalled jobs are looked for: short enough that a killed worker's job is taken over within seconds.
  const lockDuration = Number(process.env.FAULTLINE_QUEUE_LOCK_MS ?? 30_000);
  const w = new Worker(name, new URL('./queue-processor.js', import.meta.url), {
    connection: url.connection,
    concurrency,
    useWorkerThreads: true,
    lockDuration,
    stalledInterval: Math.max(500, Math.floor(lockDuration / 2)),
    maxStalledCount: 3,
  });
  w.on('active', (job) =>
    process.stdout.write(`started ${job.id} (${job.data.spec.scenario} ${job.data.spec.policy} ${job.data.seed})\n`),
  );
  w.on('completed', (job, r: { refused?: string }) =>
    process.stdout.write(r?.refused ? `refused ${job.id}: ${r.refused}\n` : `done ${job.id}\n`),
  );
  w.on('failed', (job, e) => process.stdout.write(`failed ${job?.id}: ${e.message}\n`));
  await reachQueue(w, url);
  w.on('error', (e) => process.stderr.write(`faultline worker: ${e.message}\n`));
  process.stdout.write(`worker: taking jobs from ${url.shown} (queue ${name}), ${concurrency} at a time\n`);
  await new Promise<void>((done) => {
    const stop = () => void w.close().then(done);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
