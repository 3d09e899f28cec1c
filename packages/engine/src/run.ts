// run: a whole simulation from the main thread. It validates the configuration, builds the zone and the shared
// control memory once, starts one worker thread per group of CPUs, drives them through comlink (init, run), and
// gathers what they report into one result with the run's digest. Whatever happens - a task that throws, a worker
// that dies, a deadlock - every worker is terminated and the statistics gathered so far are returned.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { releaseProxy, wrap, type Remote } from 'comlink';
import { Zone, type ZoneCounts } from '@faultline/zone';
import { nodeEndpoint } from './comlink-node.js';
import { resolveRunConfig, type RunConfig, type RunOptions } from './config.js';
import type { CpuStats } from './stats.js';
import { runDigest } from './digest.js';
import { C_ABORT, runLayout } from './layout.js';
import type { TaskStats } from './task.js';
import type { EndReason } from './window-loop.js';
import type { WorkerApi, WorkerReport } from './worker.js';

export interface RunResult {
  readonly config: RunConfig;
  readonly endReason: EndReason;
  readonly simulatedNs: number;
  readonly windows: number;
  readonly cpus: CpuStats[];
  readonly tasks: TaskStats[];
  readonly zone: ZoneCounts;
  readonly zoneLock: { operations: number; heldNs: number; waitNs: number } | null;
  /** The task that failed, or the worker that died; null when the run ended normally. */
  readonly error: { message: string; task?: string; taskId?: number; cpu?: number; timeNs?: number } | null;
  /** For a deadlock: what each live task waits for. */
  readonly waits: string[];
  readonly events: number;
  readonly digest: string;
  /** Host figures: wall time of the whole call, of the window loop alone (the slowest worker's), barrier waits. */
  readonly host: { workers: number; wallMs: number; loopMs: number; barrierRounds: number; barrierMs: number };
}

export class RunError extends Error {
  override readonly name = 'RunError';
  constructor(message: string, readonly result: RunResult | null) {
    super(message);
  }
}

/** Run a simulation. Resolves with the result even when the run ended on an error (see result.error). */
export async function runSimulation(options: RunOptions): Promise<RunResult> {
  const hostCores = os.availableParallelism();
  const config = resolveRunConfig(options, hostCores);
  const layout = runLayout(config.cpus, config.ringSlots);
  const zone = Zone.create({ pages: config.memoryPages, cpus: config.cpus, owners: Math.max(1, config.tasks.length), kernel: config.kernel });
  const ctl = new SharedArrayBuffer(layout.controlI32 * 4);
  const rings = new SharedArrayBuffer(layout.ringF64 * 8);
  const spins = config.workers <= hostCores ? 2_000 : 0;
  const url = new URL('./worker.js', import.meta.url);
  const workers: Worker[] = [];
  const remotes: Array<Remote<WorkerApi>> = [];
  let died: string | null = null;
  const deaths: Array<Promise<never>> = [];
  const wallStart = performance.now();
  try {
    for (let w = 0; w < config.workers; w++) {
      const worker = new Worker(url);
      workers.push(worker);
      deaths.push(new Promise<never>((_, reject) => {
        const die = (why: string) => {
          died ??= `worker ${w} died: ${why}`;
          Atomics.store(new Int32Array(ctl), C_ABORT, 1);
          reject(new Error(died));
        };
        worker.once('error', (e) => die(e.message));
        worker.once('exit', (code) => die(`exited with code ${code}`));
      }));
      remotes.push(wrap<WorkerApi>(nodeEndpoint(worker)));
    }
    for (const d of deaths) d.catch(() => undefined);
    const dying = Promise.race(deaths);
    await Promise.race([Promise.all(remotes.map((r, w) => r.init({ config, worker: w, zone: zone.descriptor(), ctl, rings, spins }))), dying]);
    const abort = () => Atomics.store(new Int32Array(ctl), C_ABORT, 1);
    const settled = await Promise.allSettled(remotes.map((r, w) => Promise.race([r.run(), dying]).catch((e: unknown) => {
      abort();
      died ??= `worker ${w} failed: ${(e as Error)?.message ?? String(e)}`;
      throw e;
    })));
    const reports = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value as WorkerReport] : []));
    return assemble(config, zone, reports, died, performance.now() - wallStart);
  } finally {
    for (const r of remotes) r[releaseProxy]();
    await Promise.all(workers.map((w) => {
      w.removeAllListeners('exit');
      w.removeAllListeners('error');
      w.on('error', () => undefined);
      return w.terminate();
    }));
  }
}

function assemble(config: RunConfig, zone: Zone, reports: WorkerReport[], died: string | null, wallMs: number): RunResult {
  reports.sort((a, b) => a.worker - b.worker);
  const cpus = reports.flatMap((r) => r.cpus).sort((a, b) => a.cpu - b.cpu);
  const tasks = reports.flatMap((r) => r.tasks).sort((a, b) => a.id - b.id);
  const hashes = reports.flatMap((r) => r.hashes).sort((a, b) => a.cpu - b.cpu);
  const loop = reports[0]?.loop;
  const endReason: EndReason = died ? 'aborted' : (loop?.endReason ?? 'aborted');
  const failed = reports.map((r) => r.error).filter((e) => e !== null).sort((a, b) => a.timeNs - b.timeNs || a.cpu - b.cpu)[0] ?? null;
  const error = died ? { message: died } : failed;
  const zoneLock = reports.find((r) => r.zoneLock)?.zoneLock ?? null;
  const digestStats = { cpus, tasks, zone: zone.counts().nrFree, zoneLock, endReason, simulatedNs: loop?.simulatedNs ?? 0 };
  const counts = zone.counts();
  return {
    config,
    endReason,
    simulatedNs: loop?.simulatedNs ?? 0,
    windows: loop?.windows ?? 0,
    cpus,
    tasks,
    zone: counts,
    zoneLock,
    error,
    waits: reports.flatMap((r) => r.waits),
    events: cpus.reduce((s, c) => s + c.events, 0),
    digest: runDigest(hashes, digestStats),
    host: {
      workers: config.workers,
      wallMs,
      loopMs: Math.max(0, ...reports.map((r) => r.hostMs)),
      barrierRounds: loop?.barrierRounds ?? 0,
      barrierMs: Math.max(0, ...reports.map((r) => r.loop.barrierNs / 1e6)),
    },
  };
}
