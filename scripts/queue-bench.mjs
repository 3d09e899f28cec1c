#!/usr/bin/env node
// queue-bench: what the job queue costs. One sweep (pft, 16 runs of 1-second-ish length) three ways, each into a
// fresh folder: the local pool (2 threads), and `--queue` with 2 `faultline worker` processes (concurrency 1) on a
// Redis started here on a local port. Prints the wall times, the queue's overhead per job against the runs' own
// time, and the speedup of the 2 worker processes against the local pool. Needs redis-server (scripts/install-redis.mjs).
// Usage (after a build): node scripts/queue-bench.mjs [--duration 200ms] [--seeds 4] [--workers 2] [--concurrency 1]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'packages/cli/bin/faultline.mjs');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const duration = arg('--duration', '200ms');
const seeds = arg('--seeds', '4');
const procs = Number(arg('--workers', '2'));
const concurrency = arg('--concurrency', '1');
const dir = mkdtempSync(join(os.tmpdir(), 'faultline-qbench-'));
const port = 30_000 + (process.pid % 20_000);
const env = { ...process.env, FAULTLINE_NO_PROGRESS: '1' };
const grid = [
  'pft',
  '--grid',
  'cpus=1,2',
  '--policies',
  'classic,per-vma-lock',
  '--seeds',
  seeds,
  '--duration',
  duration,
];

const redis = spawn('redis-server', [
  '--port',
  String(port),
  '--bind',
  '127.0.0.1',
  '--save',
  '',
  '--appendonly',
  'no',
  '--dir',
  dir,
]);
await new Promise((r) => setTimeout(r, 500));
const workers = [];
try {
  const t0 = performance.now();
  const local = spawnSync(process.execPath, [bin, 'sweep', ...grid, '--threads', '2', '--out', join(dir, 'local')], {
    env,
    encoding: 'utf8',
  });
  const localMs = performance.now() - t0;
  if (local.status !== 0) throw new Error(local.stderr);
  const runMs = JSON.parse(readFileSync(join(dir, 'local', 'sweep.json'), 'utf8')).rows.map((r) => r.host_ms);
  const q = `redis://127.0.0.1:${port}/bench`;
  for (let i = 0; i < procs; i++) {
    workers.push(spawn(process.execPath, [bin, 'worker', '--queue', q, '--concurrency', concurrency], { env }));
  }
  await new Promise((r) => setTimeout(r, 1500)); // the workers start and connect
  const t1 = performance.now();
  const queued = spawnSync(process.execPath, [bin, 'sweep', ...grid, '--queue', q, '--out', join(dir, 'queued')], {
    env,
    encoding: 'utf8',
  });
  const queuedMs = performance.now() - t1;
  if (queued.status !== 0) throw new Error(queued.stderr);
  const jobs = runMs.length;
  const sum = runMs.reduce((a, b) => a + b, 0);
  // Against the local pool, which pays the same thread start-up and result assembly per run: the queue's own cost.
  const overheadPerJob = (queuedMs - localMs) / jobs;
  console.log(
    `queue-bench: node ${process.version}, ${os.availableParallelism()} cores (${os.cpus()[0]?.model ?? '?'})`,
  );
  console.log(`${jobs} runs of pft (${duration}), each ${(sum / jobs).toFixed(0)} ms of the runs' own time on average`);
  console.log(`local pool, 2 threads: ${localMs.toFixed(0)} ms`);
  console.log(
    `queue, ${procs} worker process(es) of concurrency ${concurrency}: ${queuedMs.toFixed(0)} ms ` +
      `(x${(localMs / queuedMs).toFixed(2)} the local pool's speed)`,
  );
  console.log(
    `queue overhead against the local pool: ${overheadPerJob.toFixed(0)} ms a job, ` +
      `${((100 * overheadPerJob) / (sum / jobs)).toFixed(1)}% of a run (aim: under 2%)`,
  );
} finally {
  for (const w of workers) w.kill('SIGKILL');
  redis.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
