// run: a whole simulation from the main thread. It validates the configuration, builds the memory node and the shared
// control memory once, starts one worker thread per group of CPUs and drives them through comlink: init, run (to
// the end, or to a pause), report. `startSimulation` gives a handle to watch progress, pause, read statistics,
// resume and stop; `runSimulation` runs to the end. Whatever happens - a task that throws, a worker that dies, a
// deadlock - every worker is terminated (or, after a clean end, given back to the run's pool: pool.ts) and the
// statistics gathered so far are returned.
import os from 'node:os';
import type { Remote } from 'comlink';
import { MemoryNode } from '@faultline/zone';
import { resolveRunConfig, type RunConfig, type RunOptions } from './config.js';
import { cpusOfWorker } from './worker-placement.js';
import {
  C_ABORT,
  C_PAUSE_REQ,
  C_PROGRESS_US,
  C_STOP_REQ,
  C_WINDOWS,
  CONTROL_HEADER_I32,
  CPU_PUB_STRIDE_I32,
  CPU_PUB_TASK,
  runLayout,
  VD_CPU,
} from './layout.js';
import { formatNs } from './time.js';
import type { KernelModule } from './hooks.js';
import { BARRIER_SPINS_DEFAULT } from './barrier.js';
import { type HostLoad, loadIsOurs, othersRunning, withFewerWorkers, workersForLoad } from './host-load.js';
import { commitChannels, commitPlan } from './commit-channel.js';
import { loadKernelModule } from './loader.js';
import { spawnEngineWorker, terminateEngineWorker, type EnginePool, type EngineWorker } from './pool.js';
import { assemble, type RunResult } from './result.js';
import type { WorkerApi, WorkerReport } from './worker.js';

export type { RunResult } from './result.js';

export class RunError extends Error {
  override readonly name = 'RunError';
  constructor(
    message: string,
    readonly result: RunResult | null,
  ) {
    super(message);
  }
}

export interface SimulationProgress {
  readonly windows: number;
  readonly simulatedNs: number;
  /** simulatedNs / duration, 0 .. 1. */
  readonly fraction: number;
}

/** A run in progress. */
export interface Simulation {
  readonly config: RunConfig;
  /** Read from shared memory; costs the run nothing. */
  progress(): SimulationProgress;
  /** Pause at the next window's end; resolves with the statistics so far. Pausing does not change the run. */
  pause(): Promise<RunResult>;
  /** Continue a paused run. */
  resume(): void;
  /** The statistics so far: while paused, or the final result once ended. */
  stats(): Promise<RunResult>;
  /** End the run at the next window's end (at once if paused); resolves with the final result. */
  stop(): Promise<RunResult>;
  /** The final result; it rejects only when the run could not start (a module that does not load); a task's or a
   * worker's failure during the run resolves with result.error set. */
  readonly result: Promise<RunResult>;
}

/** How a run is hosted, beside what it simulates (never part of the result). */
export interface RunHost {
  /** Warm worker threads to take the run's workers from and give back after it (pool.ts); without one, the run
   * starts its own and terminates them. */
  readonly pool?: EnginePool;
  /** Reads of the barrier word (and of a parallel commit's channel) a waiting worker spins before it sleeps in
   * Atomics.wait. Default: BARRIER_SPINS_DEFAULT (barrier.ts) while workers <= host cores, else 0; the performance
   * bench compares policies. Speed only: the run is the same. */
  readonly barrierSpins?: number;
  /** Start no more workers than the host has free cores (host-load.ts: the runnable threads the kernel counts at the
   * start, other than this process's; not where the process may use only some of the host's CPUs). true: whatever
   * the options ask for (the CLI's default); false: never; left out: only when the options leave the count to the
   * engine (an explicit `workers` is what a program asked for). result.host.load says what was seen and asked.
   * Speed only: the run is the same. */
  readonly followLoad?: boolean;
}

/** Run a simulation to its end. Resolves with the result even when the run ended on an error (see result.error). */
export async function runSimulation(options: RunOptions, host: RunHost = {}): Promise<RunResult> {
  return (await startSimulation(options, host)).result;
}

/** Start a simulation; the configuration is validated (and RunConfigError thrown) before any worker starts. */
export async function startSimulation(options: RunOptions, host: RunHost = {}): Promise<Simulation> {
  const spins = host.barrierSpins;
  if (spins !== undefined && !(Number.isSafeInteger(spins) && spins >= 0 && spins <= 1e9))
    throw new RangeError(`barrierSpins: ${spins}; allowed: integers 0 .. 1e9`);
  if (host.followLoad !== undefined && typeof host.followLoad !== 'boolean')
    throw new TypeError(`followLoad: ${String(host.followLoad)}; allowed: true or false`);
  const hostCores = os.availableParallelism();
  let config = resolveRunConfig(options, hostCores);
  let load: HostLoad | null = null;
  if ((host.followLoad ?? options.workers === undefined) && config.workers > 1 && loadIsOurs(hostCores)) {
    const others = await othersRunning();
    if (others !== null) {
      load = { asked: config.workers, othersRunning: others, hostCores };
      const fit = workersForLoad(config.workers, hostCores, others);
      if (fit < config.workers) config = withFewerWorkers(config, fit);
    }
  }
  const moduleShared: SharedArrayBuffer[] = [];
  const modules: KernelModule[] = [];
  for (const spec of config.modules) {
    const m = await loadKernelModule(spec.module, spec.export);
    modules.push(m);
    const bytes = m.sharedBytes?.(config, spec.args) ?? 0;
    if (!(Number.isSafeInteger(bytes) && bytes >= 0 && bytes <= 2 ** 31))
      throw new RangeError(`kernel module '${m.name}': sharedBytes() gave ${bytes}; allowed: 0 .. 2^31`);
    moduleShared.push(new SharedArrayBuffer(bytes));
  }
  return new SimulationDriver(config, moduleShared, hostCores, modules, host, load);
}

class SimulationDriver implements Simulation {
  readonly result: Promise<RunResult>;
  private readonly ctl: Int32Array;
  private latest: RunResult | null = null;
  private paused: { resolve: (r: RunResult) => void; promise: Promise<RunResult> } | null = null;
  private resumeSignal: (() => void) | null = null;
  private stopRequested = false;

  constructor(
    readonly config: RunConfig,
    private readonly moduleShared: SharedArrayBuffer[],
    private readonly hostCores: number,
    private readonly kmods: readonly KernelModule[],
    private readonly host: RunHost,
    private readonly load: HostLoad | null,
  ) {
    const layout = runLayout(config.cpus, config.ringSlots, config.locks.length, config.tasks.length);
    this.ctl = new Int32Array(new SharedArrayBuffer(layout.controlI32 * 4));
    this.result = this.drive(layout);
  }

  progress(): SimulationProgress {
    const simulatedNs = Math.min(this.config.durationNs, Atomics.load(this.ctl, C_PROGRESS_US) * 1000);
    return { windows: Atomics.load(this.ctl, C_WINDOWS), simulatedNs, fraction: simulatedNs / this.config.durationNs };
  }

  pause(): Promise<RunResult> {
    if (this.resumeSignal !== null && this.latest) return Promise.resolve(this.latest);
    if (this.paused === null) {
      let resolve!: (r: RunResult) => void;
      const promise = new Promise<RunResult>((r) => {
        resolve = r;
      });
      this.paused = { resolve, promise };
      Atomics.store(this.ctl, C_PAUSE_REQ, 1);
    }
    // If the run ends before it can pause, the final result answers.
    return Promise.race([this.paused.promise, this.result]);
  }

  resume(): void {
    const go = this.resumeSignal;
    this.resumeSignal = null;
    go?.();
  }

  async stats(): Promise<RunResult> {
    if (this.resumeSignal !== null && this.latest) return this.latest;
    return this.pause().then((r) => {
      if (r.endReason === null) this.resume();
      return r;
    });
  }

  stop(): Promise<RunResult> {
    this.stopRequested = true;
    Atomics.store(this.ctl, C_STOP_REQ, 1);
    this.resume();
    return this.result;
  }

  /** The watchdog: host-side supervision, never part of the simulation. While the workers run, it reads the windows
   * completed every quarter second; when none completed for `ms`, it calls `hung` with the worker that is stuck
   * in a window (the one whose CPU is still inside a task step; the others wait at the barrier). Returns stop. */
  private watch(ms: number, hung: (worker: number) => void): () => void {
    if (ms === 0) return () => undefined;
    let last = Atomics.load(this.ctl, C_WINDOWS);
    let since = performance.now();
    const timer = setInterval(
      () => {
        const now = Atomics.load(this.ctl, C_WINDOWS);
        if (now !== last) [last, since] = [now, performance.now()];
        else if (performance.now() - since >= ms) {
          clearInterval(timer);
          const { cpus, workers } = this.config;
          const busy = Array.from({ length: cpus }, (_, c) => c).find(
            (c) => Atomics.load(this.ctl, CONTROL_HEADER_I32 + c * CPU_PUB_STRIDE_I32 + CPU_PUB_TASK) !== 0,
          );
          hung(
            busy === undefined
              ? 0
              : Array.from({ length: workers }, (_, w) => w).find((w) =>
                  cpusOfWorker(cpus, workers, w).includes(busy),
                )!,
          );
        }
      },
      Math.min(250, ms),
    );
    timer.unref();
    return () => clearInterval(timer);
  }

  private async drive(layout: ReturnType<typeof runLayout>): Promise<RunResult> {
    const { config, ctl } = this;
    const node = buildNode(config);
    const rings = new SharedArrayBuffer(layout.ringF64 * 8);
    new Float64Array(rings)[layout.verdictOffset + VD_CPU] = -1; // no double-free verdict yet
    const spins = this.host.barrierSpins ?? (config.workers <= this.hostCores ? BARRIER_SPINS_DEFAULT : 0);
    // The lock replay and parallelCommit modules' commits on the other workers (commit-channel.ts).
    const plan = commitPlan(
      config.workers,
      config.locks.length > 0,
      this.kmods.map((m) => m.parallelCommit === true),
    );
    const channels = commitChannels(plan);
    const pool = this.host.pool ?? null;
    const engines: EngineWorker[] = pool?.take(config.workers) ?? [];
    while (engines.length < config.workers) engines.push(spawnEngineWorker());
    const workers = engines.map((e) => e.thread);
    const remotes: Array<Remote<WorkerApi>> = engines.map((e) => e.remote);
    /** Set when the run ended with every worker alive and answering: only then may they go back to a pool. */
    let clean = false;
    let died: string | null = null;
    const deaths: Array<Promise<never>> = [];
    const f64 = new Float64Array(rings);
    /** Where a worker was when it died or hung: its CPU that was running a task step, and which. */
    const where = (w: number): string => {
      for (const cpu of cpusOfWorker(config.cpus, config.workers, w)) {
        const t = Atomics.load(ctl, CONTROL_HEADER_I32 + cpu * CPU_PUB_STRIDE_I32 + CPU_PUB_TASK) - 1;
        if (t < 0) continue;
        const task = config.tasks[t];
        return `, while cpu ${cpu} ran task '${task?.name ?? t}' (#${t}), its step from ${formatNs(f64[layout.runningOffset + cpu]!)} simulated`;
      }
      return ', between task steps (in the engine or a kernel module)';
    };
    const wallStart = performance.now();
    const abort = () => Atomics.store(ctl, C_ABORT, 1);
    try {
      for (const [w, worker] of workers.entries()) {
        deaths.push(
          new Promise<never>((_, reject) => {
            const die = (why: string) => {
              died ??= `worker ${w} died: ${why}${where(w)}`;
              abort();
              reject(new Error(died));
            };
            worker.once('error', (e) => die(e.message));
            worker.once('exit', (code) => die(`exited with code ${code}`));
          }),
        );
      }
      for (const d of deaths) d.catch(() => undefined);
      const dying = Promise.race(deaths);
      await Promise.race([
        Promise.all(
          remotes.map((r, w) =>
            r.init({
              config,
              worker: w,
              node: node.descriptor(),
              ctl: ctl.buffer as SharedArrayBuffer,
              rings,
              moduleShared: this.moduleShared,
              spins,
              plan,
              channels,
            }),
          ),
        ),
        dying,
      ]);
      const kill = (w: number, why: string) => {
        died ??= `worker ${w} ${why}${where(w)}`;
        abort();
        void workers[w]!.terminate();
      };
      for (;;) {
        // Each worker's run races its own death only: when one dies the others are aborted at their next barrier
        // and still report what they gathered.
        const stopWatch = this.watch(config.watchdogMs, (stuck) =>
          kill(stuck, `made no progress for ${config.watchdogMs / 1000} s of host time (watchdog)`),
        );
        const settled = await Promise.allSettled(
          remotes.map((r, w) =>
            Promise.race([r.run(), deaths[w]!]).catch((e: unknown) => {
              abort();
              died ??= `worker ${w} failed: ${(e as Error)?.message ?? String(e)}${where(w)}`;
              throw e;
            }),
          ),
        ).finally(stopWatch);
        const reports = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value as WorkerReport] : []));
        const ended =
          died !== null || reports.length < remotes.length || reports.some((r) => r.loop.endReason !== null);
        this.latest = assemble(
          config,
          this.kmods,
          node,
          reports,
          died,
          performance.now() - wallStart,
          this.load,
          ended ? undefined : this.stopRequested ? 'stopped' : null,
        );
        clean =
          died === null && reports.length === remotes.length && reports.every((r) => r.loop.endReason !== 'aborted');
        if (ended || this.stopRequested) return this.latest;
        // Paused: answer pause(), then wait for resume() or stop().
        const p = this.paused;
        this.paused = null;
        await new Promise<void>((go) => {
          this.resumeSignal = go;
          p?.resolve(this.latest!);
        });
        if (this.stopRequested)
          return (this.latest = assemble(
            config,
            this.kmods,
            node,
            reports,
            died,
            performance.now() - wallStart,
            this.load,
            'stopped',
          ));
      }
    } finally {
      if (clean && pool) await pool.give(engines);
      else await Promise.all(engines.map(terminateEngineWorker));
    }
  }
}

/** The run's memory: the kernel's boot-time node for the machine, or one zone of exactly the size asked. */
export function buildNode(config: RunConfig): MemoryNode {
  const owners = config.tasks.length + 1; // the last owner is the kernel itself
  const { memory: m, cpus, kernel } = config;
  if (m.layout === 'one-zone') {
    return MemoryNode.create({ zones: [{ type: 'Normal', pages: m.mib * 256 }], cpus, owners, kernel });
  }
  return MemoryNode.boot({ memoryMiB: m.mib, cpus, owners, kernel, thp: m.thp!, tunables: m.vm! });
}
