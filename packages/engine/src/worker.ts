// worker: the entry of a worker thread that hosts one or more simulated CPUs. The main thread drives it through
// comlink: init (attach the zone, load the task modules, place the tasks), then run (the window loop, to the end
// of the run), which returns everything this worker's CPUs gathered - also when the run stopped on an error.
import { parentPort } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { expose } from 'comlink';
import { Zone, type ZoneDescriptor } from '@faultline/zone';
import { WindowBarrier } from './barrier.js';
import { nodeEndpoint } from './comlink-node.js';
import { cpusOfWorker, type RunConfig } from './config.js';
import { SimCpu } from './cpu.js';
import type { CpuStats } from './stats.js';
import { C_ABORT, C_BARRIER_GEN, runLayout } from './layout.js';
import type { TaskFunction, TaskStats } from './task.js';
import { runWindows, type WindowLoopResult } from './window-loop.js';
import { ZoneCommitter } from './zone-commit.js';

export interface WorkerInit {
  readonly config: RunConfig;
  readonly worker: number;
  readonly zone: ZoneDescriptor;
  readonly ctl: SharedArrayBuffer;
  readonly rings: SharedArrayBuffer;
  readonly spins: number;
}

export interface WorkerReport {
  readonly worker: number;
  readonly loop: WindowLoopResult;
  readonly cpus: CpuStats[];
  readonly hashes: Array<{ cpu: number; h1: number; h2: number; events: number }>;
  readonly tasks: TaskStats[];
  readonly error: { task: string; taskId: number; cpu: number; timeNs: number; message: string } | null;
  readonly waits: string[];
  readonly zoneLock: { operations: number; heldNs: number; waitNs: number } | null;
  readonly hostMs: number;
}

let state: { init: WorkerInit; cpus: SimCpu[]; committer: ZoneCommitter | null; zone: Zone } | null = null;
let tsxRegistered = false;

async function loadTask(module: string, name: string): Promise<TaskFunction> {
  if (/\.[cm]?ts$/.test(module) && !tsxRegistered) {
    const { register } = await import('tsx/esm/api');
    register();
    tsxRegistered = true;
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(module).href)) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`task module '${module}' could not be loaded: ${(e as Error).message}`);
  }
  const fn = mod[name];
  if (typeof fn !== 'function') {
    const exports = Object.keys(mod).filter((k) => typeof mod[k] === 'function');
    throw new Error(`task module '${module}' has no function export '${name}'; its function exports: ${exports.join(', ') || 'none'}`);
  }
  return fn as TaskFunction;
}

const api = {
  async init(init: WorkerInit): Promise<number[]> {
    const { config } = init;
    const zone = Zone.attach(init.zone);
    zone.deferShared = true;
    const layout = runLayout(config.cpus, config.ringSlots);
    const rings = new Float64Array(init.rings);
    const mine = cpusOfWorker(config.cpus, config.workers, init.worker);
    const cpus = mine.map((id) => new SimCpu(id, config.cpus, zone, config.costs, rings, layout, config.seed));
    const fns = new Map<string, TaskFunction>();
    for (const t of config.tasks) {
      if (!mine.includes(t.cpu)) continue;
      const key = `${t.module}#${t.export}`;
      if (!fns.has(key)) fns.set(key, await loadTask(t.module, t.export));
      cpus[t.cpu - mine[0]!]!.place({ id: t.id, name: t.name, fn: fns.get(key)!, args: t.args });
    }
    const committer = init.worker === 0 ? new ZoneCommitter(zone, rings, layout, config.costs.zoneLockNs) : null;
    state = { init, cpus, committer, zone };
    return mine;
  },

  run(): WorkerReport {
    if (state === null) throw new Error('run() before init()');
    const { init, cpus, committer } = state;
    const { config } = init;
    const layout = runLayout(config.cpus, config.ringSlots);
    const ctl = new Int32Array(init.ctl);
    const t0 = performance.now();
    let loop: WindowLoopResult;
    try {
      loop = runWindows({
      cpus,
      allCpus: config.cpus,
      ctl,
      rings: new Float64Array(init.rings),
      layout,
      barrier: new WindowBarrier(ctl, config.workers, init.spins),
      committer,
      durationNs: config.durationNs,
      windowNs: config.windowNs,
      });
    } catch (e) {
      // Not a task's error but the engine's: release the other workers from their barrier, then report it.
      Atomics.store(ctl, C_ABORT, 1);
      Atomics.add(ctl, C_BARRIER_GEN, 1);
      Atomics.notify(ctl, C_BARRIER_GEN);
      throw e;
    }
    const failed = cpus.find((c) => c.error !== null)?.error ?? null;
    return {
      worker: init.worker,
      loop,
      cpus: cpus.map((c) => c.stats),
      hashes: cpus.map((c) => ({ cpu: c.id, h1: c.hash.h1, h2: c.hash.h2, events: c.hash.events })),
      tasks: cpus.flatMap((c) => c.taskStats()),
      error: failed && { task: failed.task, taskId: failed.taskId, cpu: failed.cpu, timeNs: failed.timeNs, message: failed.message },
      waits: loop.endReason === 'deadlock' ? cpus.flatMap((c) => c.waits()) : [],
      zoneLock: committer && { operations: committer.operations, heldNs: committer.lockHeldNs, waitNs: committer.lockWaitNs },
      hostMs: performance.now() - t0,
    };
  },
};

export type WorkerApi = typeof api;

expose(api, nodeEndpoint(parentPort!));
