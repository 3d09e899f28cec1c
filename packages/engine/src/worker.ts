// worker: the entry of a worker thread that hosts one or more simulated CPUs. The main thread drives it through
// comlink: init (attach the memory node, load kernel modules and tasks, place the tasks), run (the window loop, until the
// run ends or the main thread asks for a pause), report (what this worker's CPUs gathered so far). run can be
// called again after a pause and continues where it stopped.
import type { CpuTrace } from './trace-log.js';
import { parentPort } from 'node:worker_threads';
import { expose } from 'comlink';
import { MemoryNode, type NodeDescriptor } from '@faultline/zone';
import { BarrierAborted, WindowBarrier } from './barrier.js';
import { nodeEndpoint } from './comlink-node.js';
import type { RunConfig } from './config.js';
import { cpusOfWorker } from './worker-placement.js';
import { SimCpu } from './cpu.js';
import { CommitChannel, type CommitChannels, type CommitPlan } from './commit-channel.js';
import type { CommitFrees, KernelModuleInstance } from './hooks.js';
import { C_ABORT, C_BARRIER_GEN, type RunLayout, runLayout } from './layout.js';
import { loadKernelModule, loadTask } from './loader.js';
import { LineServer } from './line-server.js';
import { transferBetween } from './topology.js';
import { LockCommitter, type LockCommitStats } from './lock-commit.js';
import type { PsiPeriods } from './psi.js';
import type { CpuStats } from './stats.js';
import type { TaskFunction, TaskStats } from './task.js';
import { newLoopState, runWindows, type LoopState, type RoundInfo, type WindowLoopResult } from './window-loop.js';
import { ZoneCommitter, type ZoneLockStats } from './zone-commit.js';
import { FreeChecker } from './free-check.js';

export interface WorkerInit {
  readonly config: RunConfig;
  readonly worker: number;
  readonly node: NodeDescriptor;
  readonly ctl: SharedArrayBuffer;
  readonly rings: SharedArrayBuffer;
  /** One buffer per kernel module, in config order. */
  readonly moduleShared: readonly SharedArrayBuffer[];
  readonly spins: number;
  /** Which worker commits what, and the channels of the steps that run off worker 0 (commit-channel.ts). */
  readonly plan: CommitPlan;
  readonly channels: CommitChannels;
}

export interface WorkerReport {
  readonly worker: number;
  readonly loop: WindowLoopResult;
  readonly cpus: CpuStats[];
  readonly hashes: Array<{ cpu: number; h1: number; h2: number; events: number }>;
  /** Each CPU's PSI stall times per 2 s period (psi.ts). */
  readonly psi: Array<{ cpu: number; periods: PsiPeriods }>;
  readonly tasks: TaskStats[];
  readonly error: { task: string; taskId: number; cpu: number; timeNs: number; message: string } | null;
  /** What this worker's CPUs' tasks wait for (a deadlock), or the lock waiters still queued at the end. */
  readonly waits: string[];
  /** The lock commit's locks that still have waiters at the end, from the worker that ran it (else empty). */
  readonly lockWaits: string[];
  readonly zoneLock: ZoneLockStats | null;
  readonly locks: LockCommitStats | null;
  /** Each kernel module's report as this worker has it, by name. */
  readonly modules: Record<string, unknown>;
  readonly hostMs: number;
  /** Window-barrier waits that outlasted the spin, and the ms they waited after it (host figures). */
  readonly barrierSleeps: number;
  readonly barrierSleptMs: number;
  /** Each CPU's trace, when the run is traced, and what each module adds to it (worker 0). */
  readonly traces: CpuTrace[];
  readonly moduleTraces: Record<string, unknown>;
}

interface WorkerState {
  readonly init: WorkerInit;
  readonly cpus: SimCpu[];
  readonly node: MemoryNode;
  readonly zoneCommitter: ZoneCommitter | null;
  readonly lockCommitter: LockCommitter | null;
  readonly modules: Array<{ name: string; instance: KernelModuleInstance; channel: CommitChannel | null }>;
  /** The lock replay's channel when it runs off worker 0: its producer there, its consumer on worker 0. */
  readonly lockChannel: CommitChannel | null;
  /** Host ns this worker's channels spent waiting on the other side. */
  readonly commitWaits: { ns: number };
  readonly barrier: WindowBarrier;
  readonly loopState: LoopState;
  loop: WindowLoopResult;
  hostMs: number;
}

/** This worker's CPU `id` of the run. */
function newCpu(
  id: number,
  config: RunConfig,
  node: MemoryNode,
  layout: RunLayout,
  rings: Float64Array,
  ctl: Int32Array,
): SimCpu {
  return new SimCpu({
    id,
    cpus: config.cpus,
    node,
    costs: config.costs,
    scheduler: config.scheduler,
    preempt: config.preempt,
    rings,
    ctl,
    layout,
    seed: config.seed,
    locks: config.locks,
    coherence: config.coherence,
    traceMaxEvents: config.traceMaxEvents,
    taskName: (t) => config.tasks[t]?.name ?? `#${t}`,
  });
}

/** A commit channel this worker produces into (it runs the step, worker `w`) or, on worker 0, consumes; else null. */
function channelOf(
  init: WorkerInit,
  ctl: Int32Array,
  commitWaits: { ns: number },
  buffer: SharedArrayBuffer | null,
  w: number,
): CommitChannel | null {
  return buffer && (w === init.worker || init.worker === 0)
    ? new CommitChannel(buffer, ctl, commitWaits, init.spins)
    : null;
}

/** Load and set up the run's kernel modules, in the run's order, and attach each to this worker's CPUs: a module's
 * per-CPU hooks and state (CpuHooks.state) go to each CPU; its commit channel, when another worker commits for it. */
async function setupModules(
  init: WorkerInit,
  node: MemoryNode,
  layout: RunLayout,
  ctl: Int32Array,
  cpus: readonly SimCpu[],
  commitWaits: { ns: number },
): Promise<WorkerState['modules']> {
  const modules: WorkerState['modules'] = [];
  const { config, plan, channels } = init;
  for (const [i, spec] of config.modules.entries()) {
    const m = await loadKernelModule(spec.module, spec.export);
    const commitWorker = Math.max(0, plan.moduleWorkers[i]!);
    const channel = channelOf(init, ctl, commitWaits, channels.modules[i]!, commitWorker);
    const instance = await m.setup({
      config,
      worker: init.worker,
      shared: init.moduleShared[i]!,
      args: spec.args,
      node,
      commitWorker,
      commitFrees: commitWorker === 0 ? node : init.worker === commitWorker ? channel! : notHere(m.name, commitWorker),
      taskCpu: (taskId) => ctl[layout.taskCpuOffset + taskId]!,
    });
    for (const cpu of cpus) {
      const hooks = instance.attachCpu?.(cpu.kernelCpu());
      if (hooks) cpu.addHooks(hooks, m.name);
    }
    modules.push({ name: m.name, instance, channel });
  }
  return modules;
}

/** Place the run's tasks that start on this worker's CPUs (`mine`), each task module loaded once. */
async function placeTasks(config: RunConfig, cpus: readonly SimCpu[], mine: readonly number[]): Promise<void> {
  const fns = new Map<string, TaskFunction>();
  for (const t of config.tasks) {
    if (!mine.includes(t.cpu)) continue;
    const key = `${t.module}#${t.export}`;
    if (!fns.has(key)) fns.set(key, await loadTask(t.module, t.export));
    cpus[t.cpu - mine[0]!]!.place({ id: t.id, name: t.name, fn: fns.get(key)!, args: t.args, pinned: t.pinned });
  }
}

/** The lock replay, for the worker that runs it (its constructor publishes every lock's initial mode before any
 * window runs: all inits finish first), with the lock words' lines when the run charges them. */
function newLockCommitter(config: RunConfig, ctl: Int32Array, rings: Float64Array, layout: RunLayout): LockCommitter {
  return new LockCommitter(
    config.locks,
    ctl,
    rings,
    layout,
    config.costs.rwsemHandoffNs,
    config.costs.lockSpinMaxNs,
    config.lockWake,
    config.coherence === 'lines' && config.topology
      ? new LineServer(
          config.topology,
          config.locks.map((l) => l.name),
        )
      : null,
  );
}

/** The zone's commit, for worker 0, with the transfers of zone->lock's line when the run charges lines. */
function newZoneCommitter(config: RunConfig, node: MemoryNode, rings: Float64Array, layout: RunLayout) {
  const t = config.coherence === 'lines' ? config.topology : null;
  const transfer = t ? (a: number, b: number) => transferBetween(t.machine, t.cpus[a]!, t.cpus[b]!) : null;
  return new ZoneCommitter(node, rings, layout, config.costs.zoneLockNs, transfer);
}

let state: WorkerState | null = null;

const api = {
  async init(init: WorkerInit): Promise<number[]> {
    const { config } = init;
    const node = MemoryNode.attach(init.node);
    node.deferShared = true;
    const layout = runLayout(config.cpus, config.ringSlots, config.locks.length, config.tasks.length);
    const rings = new Float64Array(init.rings);
    const ctl = new Int32Array(init.ctl);
    const mine = cpusOfWorker(config.cpus, config.workers, init.worker);
    const cpus = mine.map((id) => newCpu(id, config, node, layout, rings, ctl));
    const commitWaits = { ns: 0 };
    const modules = await setupModules(init, node, layout, ctl, cpus, commitWaits);
    await placeTasks(config, cpus, mine);
    const leader = init.worker === 0;
    state = {
      init,
      node,
      cpus,
      zoneCommitter: leader ? newZoneCommitter(config, node, rings, layout) : null,
      lockCommitter: init.worker === init.plan.lockWorker ? newLockCommitter(config, ctl, rings, layout) : null,
      lockChannel: channelOf(init, ctl, commitWaits, init.channels.lock, init.plan.lockWorker),
      commitWaits,
      modules,
      barrier: new WindowBarrier(ctl, config.workers, init.spins),
      loopState: newLoopState(),
      loop: {
        endReason: null,
        simulatedNs: 0,
        windows: 0,
        barrierRounds: 0,
        barrierNs: 0,
        runNs: 0,
        commitNs: 0,
        commitWaitNs: 0,
        criticalRunNs: 0,
        criticalCommitNs: 0,
        subRounds: 0,
        lagCarried: 0,
      },
      hostMs: 0,
    };
    return mine;
  },

  /** Run windows until the run ends or a pause is decided; then report. */
  run(): WorkerReport {
    if (state === null) throw new Error('run() before init()');
    const s = state;
    const { config } = s.init;
    const ctl = new Int32Array(s.init.ctl);
    const rings = new Float64Array(s.init.rings);
    const layout = runLayout(config.cpus, config.ringSlots, config.locks.length, config.tasks.length);
    const steps = commitSteps(s, rings, layout);
    // Between the barriers no CPU runs, so worker 0's commits may take the zone lock's paths directly.
    const commits =
      steps.length === 0
        ? []
        : [
            (end: number, info: RoundInfo) =>
              s.node.exclusive(() => {
                let more = false;
                for (const step of steps) if (step(end, info) === true) more = true;
                return more;
              }, s.init.worker === 0),
          ];
    const t0 = performance.now();
    try {
      s.loop = runWindows(
        {
          cpus: s.cpus,
          groupCpus: Array.from({ length: config.workers }, (_, w) => cpusOfWorker(config.cpus, config.workers, w)[0]!),
          ctl,
          rings,
          layout,
          barrier: s.barrier,
          commits,
          leader: s.init.worker === 0,
          durationNs: config.durationNs,
          windowNs: config.windowNs,
          llcOf: config.tasks.some((t) => !t.pinned) ? config.llcOf : null,
          commitWaits: s.commitWaits,
        },
        s.loopState,
      );
    } catch (e) {
      if (e instanceof BarrierAborted) {
        // Another worker died or hung and the run was aborted: what this worker's CPUs gathered still comes back,
        // up to the last window every worker completed.
        const simulatedNs = s.loopState.startNs;
        for (const cpu of s.cpus) cpu.settle(simulatedNs);
        s.loop = {
          endReason: 'aborted',
          simulatedNs,
          windows: s.loopState.windows,
          barrierRounds: s.barrier.rounds,
          barrierNs: s.loopState.barrierNs,
          runNs: s.loopState.runNs,
          commitNs: s.loopState.commitNs,
          commitWaitNs: s.commitWaits.ns,
          criticalRunNs: s.loopState.criticalRunNs,
          criticalCommitNs: s.loopState.criticalCommitNs,
          subRounds: s.loopState.subRounds,
          lagCarried: s.loopState.lagCarried,
        };
        return api.report();
      }
      // Not a task's error but the engine's (or a kernel module's): release the other workers, then report it.
      Atomics.store(ctl, C_ABORT, 1);
      Atomics.add(ctl, C_BARRIER_GEN, 1);
      Atomics.notify(ctl, C_BARRIER_GEN);
      throw e;
    } finally {
      s.hostMs += performance.now() - t0;
    }
    return api.report();
  },

  /** Drop the finished run's state (a pooled worker waiting for its next run: pool.ts). */
  release(): boolean {
    state = null;
    return true;
  },

  /** What this worker's CPUs gathered so far (between runs: at a pause or after the end). */
  report(): WorkerReport {
    if (state === null) throw new Error('report() before init()');
    const { init, cpus, zoneCommitter, lockCommitter, loop } = state;
    const failed = cpus.find((c) => c.error !== null)?.error ?? null;
    return {
      worker: init.worker,
      loop,
      cpus: cpus.map((c) => ({ ...c.stats })),
      hashes: cpus.map((c) => ({ cpu: c.id, h1: c.hash.h1, h2: c.hash.h2, events: c.hash.events })),
      psi: cpus.map((c) => ({ cpu: c.id, periods: c.psi.periods })),
      tasks: cpus.flatMap((c) => c.taskStats()),
      error: failed && {
        task: failed.task,
        taskId: failed.taskId,
        cpu: failed.cpu,
        timeNs: failed.timeNs,
        message: failed.message,
      },
      waits:
        loop.endReason === 'deadlock'
          ? cpus.flatMap((c) => c.waits())
          : cpus.flatMap((c) => c.lockWaiters((id) => init.config.locks[id])),
      lockWaits: loop.endReason === 'deadlock' ? [] : (lockCommitter?.contended() ?? []),
      zoneLock: zoneCommitter?.stats() ?? null,
      locks: lockCommitter && {
        grants: lockCommitter.grants,
        handoffs: lockCommitter.handoffs,
        spinGrants: lockCommitter.spinGrants,
        steals: lockCommitter.steals,
        spinStops: lockCommitter.spinStops,
        wakes: lockCommitter.wakes,
        wokenMissed: lockCommitter.wokenMissed,
        ...(lockCommitter.lines ? { lines: lockCommitter.lines.stats() } : {}),
      },
      modules: Object.fromEntries(state.modules.map((m) => [m.name, m.instance.report?.() ?? null])),
      hostMs: state.hostMs,
      barrierSleeps: state.barrier.sleeps,
      barrierSleptMs: state.barrier.sleptMs,
      traces: cpus.flatMap((c) => (c.trace ? [c.trace.report()] : [])),
      moduleTraces:
        init.config.traceMaxEvents > 0 && init.worker === 0
          ? Object.fromEntries(
              state.modules.flatMap((m) => (m.instance.traceReport ? [[m.name, m.instance.traceReport()]] : [])),
            )
          : {},
    };
  },
};

export type WorkerApi = typeof api;

type CommitStep = (endNs: number, info: RoundInfo) => boolean | void;

/** This worker's commit steps, in the one order: on worker 0 the zone's, the lock replay's (or its channel's
 * answer), the double-free check's, then each module's (or its channel's frees and answer); on another worker the
 * steps the plan gave it, in the same order, each finishing its channel. */
function commitSteps(s: WorkerState, rings: Float64Array, layout: ReturnType<typeof runLayout>): CommitStep[] {
  const steps: CommitStep[] = [];
  const free = (cpu: number, pfn: number) => s.node.free(cpu, pfn);
  const offloaded = (channel: CommitChannel, run: CommitStep): CommitStep =>
    s.init.worker === 0 ? () => channel.drain(free) : (end, info) => channel.finish(run(end, info) === true);
  const zc = s.zoneCommitter;
  if (zc) {
    steps.push((_end, info) => {
      zc.commit((cpu) => rings[layout.clockOffset + cpu]!, info.horizonNs);
      // Allocations the commit applied may have woken kswapd too.
      info.kswapdWakeNs = Math.min(info.kswapdWakeNs, zc.kswapdWakeNs);
    });
  }
  const lc = s.lockCommitter;
  const lockRun: CommitStep = (end) => lc!.commit(end);
  if (s.lockChannel) steps.push(offloaded(s.lockChannel, lockRun));
  else if (lc) steps.push(lockRun);
  if (s.init.worker === 0) {
    const frees = new FreeChecker(rings, layout);
    steps.push(() => frees.commit());
  }
  for (const m of s.modules) {
    const run: CommitStep = (end, info) => m.instance.commit?.(end, info);
    if (m.channel) steps.push(offloaded(m.channel, run));
    else if (s.init.worker === 0 && m.instance.commit) steps.push(run);
  }
  return steps;
}

/** commitFrees on a worker that does not run the module's commit. */
function notHere(module: string, commitWorker: number): CommitFrees {
  return {
    free() {
      throw new Error(
        `kernel module '${module}': commitFrees used outside its commit(), which runs on worker ${commitWorker}`,
      );
    },
  };
}

expose(api, nodeEndpoint(parentPort!));
