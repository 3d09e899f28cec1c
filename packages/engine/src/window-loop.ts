// window-loop: how a worker thread runs its CPUs, window after window, in step with the other workers.
//   1. each hosted CPU runs its events up to the window's end, touching only its own state;
//   2. it publishes whether it has live tasks, whether a task failed, and when its next event is due;
//   barrier A: every CPU's window is done and published;
//   3. each CPU takes the messages addressed to it from every outbox; worker 0 applies all queued zone work in
//      (time, CPU, sequence) order;
//   barrier B: messages taken, zone work applied;
//   4. each CPU wakes its zone waiters and clears its rings.
// Every worker reads the same published values after barrier A, so all agree on when to stop and where the next
// window starts (empty stretches are skipped to the earliest pending event).
import { BarrierAborted, WindowBarrier } from './barrier.js';
import type { SimCpu } from './cpu.js';
import { CONTROL_HEADER_I32, CPU_PUB_ERROR, CPU_PUB_LIVE, CPU_PUB_STRIDE_I32, type RunLayout } from './layout.js';
import type { ZoneCommitter } from './zone-commit.js';

export const END_REASONS = ['duration', 'all-exited', 'deadlock', 'task-error', 'aborted'] as const;
export type EndReason = (typeof END_REASONS)[number];

export interface WindowLoopResult {
  readonly endReason: EndReason;
  readonly simulatedNs: number;
  readonly windows: number;
  readonly barrierRounds: number;
  readonly barrierNs: number;
}

export interface WindowLoopInput {
  readonly cpus: readonly SimCpu[];
  readonly allCpus: number;
  readonly ctl: Int32Array;
  readonly rings: Float64Array;
  readonly layout: RunLayout;
  readonly barrier: WindowBarrier;
  readonly committer: ZoneCommitter | null;
  readonly durationNs: number;
  readonly windowNs: number;
}

export function runWindows(x: WindowLoopInput): WindowLoopResult {
  const { cpus, ctl, rings, layout: L, barrier } = x;
  let start = 0;
  let windows = 0;
  let barrierNs = 0;
  let endReason: EndReason = 'duration';
  const timedWait = () => {
    const t0 = performance.now();
    barrier.wait();
    barrierNs += (performance.now() - t0) * 1e6;
  };
  try {
    for (;;) {
      const end = Math.min(start + x.windowNs, x.durationNs);
      windows++;
      for (const cpu of cpus) {
        cpu.runWindow(end);
        const pub = CONTROL_HEADER_I32 + cpu.id * CPU_PUB_STRIDE_I32;
        Atomics.store(ctl, pub + CPU_PUB_LIVE, cpu.liveTasks());
        Atomics.store(ctl, pub + CPU_PUB_ERROR, cpu.error ? 1 : 0);
        rings[L.nextEventOffset + cpu.id] = cpu.heap.peekTimeNs();
      }
      timedWait();
      // Everyone reads the same published state here.
      let live = 0;
      let failed = false;
      let pending = 0;
      let next = Infinity;
      for (let c = 0; c < x.allCpus; c++) {
        const pub = CONTROL_HEADER_I32 + c * CPU_PUB_STRIDE_I32;
        live += Atomics.load(ctl, pub + CPU_PUB_LIVE);
        if (Atomics.load(ctl, pub + CPU_PUB_ERROR)) failed = true;
        pending += rings[L.outboxOffset + c * L.outboxStride]! + rings[L.zoneWorkOffset + c * L.zoneWorkStride]!;
        next = Math.min(next, rings[L.nextEventOffset + c]!);
      }
      for (const cpu of cpus) cpu.collectMessages(end);
      x.committer?.commit(end);
      timedWait();
      for (const cpu of cpus) {
        cpu.collectZoneResults(end);
        cpu.clearRings();
      }
      if (failed) {
        endReason = 'task-error';
        return { endReason, simulatedNs: end, windows, barrierRounds: barrier.rounds, barrierNs };
      }
      if (end >= x.durationNs) break;
      if (pending === 0 && next === Infinity) {
        endReason = live === 0 ? 'all-exited' : 'deadlock';
        return { endReason, simulatedNs: end, windows, barrierRounds: barrier.rounds, barrierNs };
      }
      start = pending > 0 ? end : Math.max(end, Math.min(next, x.durationNs));
      if (start >= x.durationNs) {
        for (const cpu of cpus) cpu.runWindow(x.durationNs);
        break;
      }
    }
  } catch (e) {
    if (e instanceof BarrierAborted) return { endReason: 'aborted', simulatedNs: start, windows, barrierRounds: barrier.rounds, barrierNs };
    throw e;
  }
  return { endReason, simulatedNs: x.durationNs, windows, barrierRounds: barrier.rounds, barrierNs };
}
