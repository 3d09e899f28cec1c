// host-load: how many of the host's cores other processes are using at a run's start, and how many worker threads
// the run then gets. The workers meet at two barriers a window; on a host whose cores are taken, a worker is
// preempted in the middle of a round and the others wait out its time slice, spinning or asleep (BENCHMARKS.md,
// "2 workers on a loaded host": 0.23-0.54x of one worker with two busy processes on two cores). No waiting policy
// fixes that (an adaptive spin was tried and made it worse), so the run starts no more workers than the host has
// free cores. The count is the kernel's own: /proc/stat's procs_running (show_stat in fs/proc/stat.c prints
// nr_running() of kernel/sched/core.c, the tasks on every CPU's run queue, running or waiting to), less this
// process's own runnable threads (state R in /proc/self/task/*/stat: the reader, V8's compiler and collector
// threads, which Node 20 does not name apart). Host-side only: the digest is the same for any number of workers, so
// this changes speed, never the run.
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import type { RunConfig } from './config.js';
import { workersKeepLlcs } from './worker-placement.js';

/** Reads a run's start takes, and the host ms between them: the fewest others seen counts, so that a thread that
 * ran for a moment (a shell, a compiler) is not taken for load, while a process that keeps a core busy is in every
 * read. A read that sees no other stops the reading. */
export const LOAD_SAMPLES = 5;
export const LOAD_SAMPLE_GAP_MS = 1;

/** The tasks runnable on the host now, the reader included (Linux's /proc/stat procs_running), or null where the
 * host does not say (another system, /proc not mounted). */
export function procsRunning(read: () => string = () => readFileSync('/proc/stat', 'latin1')): number | null {
  let text: string;
  try {
    text = read();
  } catch {
    return null;
  }
  const m = /^procs_running\s+(\d+)$/m.exec(text);
  return m ? Number(m[1]) : null;
}

/** This process's runnable threads (state R after the command's closing parenthesis in each thread's stat), at
 * least 1: the reader. */
export function ownRunning(): number {
  let n = 0;
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      try {
        const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'latin1');
        if (stat.charAt(stat.lastIndexOf(')') + 2) === 'R') n++;
      } catch {
        // the thread ended between the listing and the read
      }
    }
  } catch {
    return 1;
  }
  return Math.max(1, n);
}

/** Threads of other processes runnable on the host now, or null where the host does not say. */
export function othersNow(): number | null {
  const all = procsRunning();
  return all === null ? null : Math.max(0, all - ownRunning());
}

/** Threads of other processes running at a run's start: the fewest seen in up to LOAD_SAMPLES reads,
 * LOAD_SAMPLE_GAP_MS apart; null where the host does not say. Host code (a timer between reads), never the
 * simulation's. */
export async function othersRunning(sample: () => number | null = othersNow): Promise<number | null> {
  let fewest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < LOAD_SAMPLES && fewest > 0; i++) {
    if (i > 0) await new Promise((go) => setTimeout(go, LOAD_SAMPLE_GAP_MS));
    const n = sample();
    if (n === null) return null;
    fewest = Math.min(fewest, n);
  }
  return fewest;
}

/** Whether the host's count speaks for the cores this process may use: procs_running counts every CPU's queue, so
 * a process confined to some of the host's CPUs (a cpuset, taskset) cannot tell which of the others' threads run
 * on its own, and starts the workers asked. */
export function loadIsOurs(hostCores: number): boolean {
  return hostCores === os.cpus().length;
}

/** The workers a run asking for `asked` gets on a host of `hostCores` cores with `others` threads running: no more
 * than the cores the others leave free, and at least one. */
export function workersForLoad(asked: number, hostCores: number, others: number): number {
  return Math.max(1, Math.min(asked, hostCores - others));
}

/** What the run's start saw of the host and what it did about it (result.host.load). */
export interface HostLoad {
  /** The workers the configuration asked for (given, or the default). */
  readonly asked: number;
  /** Other processes' threads runnable at the start (procs_running less this process's own, the fewest of up to
   * LOAD_SAMPLES reads). */
  readonly othersRunning: number;
  readonly hostCores: number;
}

/** The configuration on the most workers, up to `most`, that keep each last-level cache an unpinned task moves
 * within on one worker (workersKeepLlcs, as config.ts fits its default count); one worker always does. Nothing else
 * in a resolved configuration depends on the worker count. */
export function withFewerWorkers(config: RunConfig, most: number): RunConfig {
  const moving = config.tasks.some((t) => !t.pinned);
  let workers = Math.max(1, most);
  while (workers > 1 && moving && !workersKeepLlcs(workers, config.llcOf)) workers--;
  return { ...config, workers };
}
