// window-loop: how a worker thread runs its CPUs, window after window, in step with the other workers.
//   1. each hosted CPU runs its events up to the window's end (or until it stalls on a cross-CPU answer), touching
//      only its own state;
//   2. it publishes its clock (for the zone's commit), and the worker publishes one summary of its CPUs (GR_* in
//      layout.ts: live tasks, errors, stalls, pending work, next event, as sums, ors and minima), which is all
//      that the round's decision reads of them;
//   barrier A: every CPU's window is done and published;
//   3. each worker hands its CPUs the messages addressed to them (reading only the outboxes of workers that sent
//      any: each worker's summary of its CPUs says how many); worker 0 runs the commits - zone work, lock
//      logs, kernel modules - in (time, CPU, sequence) order, the lock replay and parallelCommit modules on the
//      other workers at the same time (commit-channel.ts), and decides whether to go on, pause or stop;
//   barrier B: messages taken, commits applied, decision written;
//   4. each CPU resumes its zone and lock waiters at their grant times and clears its rings.
// A CPU's clock may lag the window's end (it stalled, or idled). When a CPU stalled during a round on something
// only the commit answers (the zone lock, a spinlock, kernel work in its task's context), the window runs again to
// the same end - a sub-round - so that the CPU resumes at its answer's time and catches up within the window; other
// CPUs run only what the commit gave them before that end (messages, grants). After SUB_ROUNDS_MAX sub-rounds the
// window ends anyway and the lag carries into the next window, where the CPU runs from its clock.
// Every worker reads the same published values after barrier A, so all agree on when to stop and where the next
// window starts (empty stretches are skipped to the earliest pending event). A pause returns from the loop with its
// state kept; calling it again resumes exactly where it left off, so a paused run is the same run.
import { BarrierAborted, type WindowBarrier } from './barrier.js';
import { balanceLlcs, llcGroups } from './balance.js';
import type { SimCpu } from './cpu.js';
import { verdictMessage } from './free-check.js';
import type { CommitInfo } from './hooks.js';
import { LOG_HEADER_F64 } from './log-ring.js';

/** What worker 0's commits share in a round: the modules get it read-only, as CommitInfo; the zone's commit adds the
 * kswapd wake-ups of the allocations it applied. */
export interface RoundInfo extends CommitInfo {
  kswapdWakeNs: number;
  horizonNs: number;
}
import {
  C_COMMIT_PENDING,
  C_DECISION,
  C_PAUSE_REQ,
  C_PROGRESS_US,
  C_STOP_REQ,
  C_WINDOWS,
  GR_ERROR,
  GR_COMMIT_NS,
  GR_F64,
  GR_HORIZON,
  GR_KSWAPD,
  GR_LIVE,
  GR_MESSAGES,
  GR_NEXT,
  GR_PENDING,
  GR_RUN_NS,
  GR_STALLED,
  VD_CPU,
  VD_TASK,
  VD_TIME,
  DECISION_GO,
  DECISION_PAUSE,
  DECISION_STOP,
  MSG_DST,
  MSG_F64,
  MSG_TIME,
  MSG_VALUE,
  type RunLayout,
} from './layout.js';

export const END_REASONS = ['duration', 'all-exited', 'deadlock', 'task-error', 'stopped', 'aborted'] as const;
export type EndReason = (typeof END_REASONS)[number];

export interface WindowLoopResult {
  /** null while paused. */
  readonly endReason: EndReason | null;
  readonly simulatedNs: number;
  readonly windows: number;
  readonly barrierRounds: number;
  readonly barrierNs: number;
  /** Host time this worker spent running its CPUs' windows, and in its commit steps (worker 0's, and those the
   * commit plan gave other workers); commitWaitNs of it waiting on another worker's step (commit-channel.ts). */
  readonly runNs: number;
  readonly commitNs: number;
  readonly commitWaitNs: number;
  /** Summed over rounds: the slowest worker's run phase, and the most own commit work of any worker - how long
   * the loop would take if barriers and hand-offs cost nothing (every worker reads the same, so any reports it). */
  readonly criticalRunNs: number;
  readonly criticalCommitNs: number;
  /** Rounds that repeated a window for CPUs that stalled in it (included in windows). */
  readonly subRounds: number;
  /** Windows that ended at SUB_ROUNDS_MAX with a CPU still catching up. */
  readonly lagCarried: number;
}

/** Sub-rounds per window at most: a bound on the host cost of a CPU that stalls over and over. */
export const SUB_ROUNDS_MAX = 64;

export interface WindowLoopInput {
  readonly cpus: readonly SimCpu[];
  /** Each worker's first CPU, where it publishes its summary (GR_*); this worker's is cpus[0].id. */
  readonly groupCpus: readonly number[];
  readonly ctl: Int32Array;
  readonly rings: Float64Array;
  readonly layout: RunLayout;
  readonly barrier: WindowBarrier;
  /** Worker 0's between-window work, in this order; empty on the other workers. One that returns true left work
   * for the next window, so the next window starts at once. */
  readonly commits: ReadonlyArray<(windowEndNs: number, info: RoundInfo) => boolean | void>;
  readonly leader: boolean;
  readonly durationNs: number;
  readonly windowNs: number;
  /** Each CPU's last-level cache when some task is unpinned (balance.ts runs after each window), else null. */
  readonly llcOf: readonly number[] | null;
  /** Host ns this worker's commit steps spent waiting on other workers' (their channels add to it). */
  readonly commitWaits: { ns: number };
}

/** Where the loop is: kept across pauses. */
export interface LoopState {
  startNs: number;
  /** The end of the window being repeated, or -1 when the next round starts a new window. */
  subEndNs: number;
  subRoundsHere: number;
  windows: number;
  subRounds: number;
  lagCarried: number;
  barrierNs: number;
  runNs: number;
  commitNs: number;
  criticalRunNs: number;
  criticalCommitNs: number;
  ended: WindowLoopResult | null;
}

export function newLoopState(): LoopState {
  return {
    startNs: 0,
    subEndNs: -1,
    subRoundsHere: 0,
    windows: 0,
    subRounds: 0,
    lagCarried: 0,
    barrierNs: 0,
    runNs: 0,
    commitNs: 0,
    criticalRunNs: 0,
    criticalCommitNs: 0,
    ended: null,
  };
}

/** Hand each message to its destination if this worker hosts it: for each destination, by source CPU, then in send
 * order. One pass over the outboxes of the workers whose CPUs sent any (not one per CPU over every outbox). */
function collectMessages(x: WindowLoopInput, rings: Float64Array, L: RunLayout): void {
  const first = x.cpus[0]!.id;
  const last = first + x.cpus.length - 1;
  for (let g = 0; g < x.groupCpus.length; g++) {
    const from = x.groupCpus[g]!;
    if (rings[L.groupOffset + from * GR_F64 + GR_MESSAGES] === 0) continue;
    const to = g + 1 < x.groupCpus.length ? x.groupCpus[g + 1]! : L.cpus;
    for (let src = from; src < to; src++) {
      const base = L.outboxOffset + src * L.outboxStride;
      const n = rings[base]!;
      for (let i = 0; i < n; i++) {
        const s = base + LOG_HEADER_F64 + i * MSG_F64;
        const dst = rings[s + MSG_DST]!;
        if (dst >= first && dst <= last) x.cpus[dst - first]!.receive(src, rings[s + MSG_TIME]!, rings[s + MSG_VALUE]!);
      }
    }
  }
}

type LlcGroups = ReturnType<typeof llcGroups> | null;

/** Phase A of a round: this worker runs its CPUs' windows to `end`, balances its LLCs, and publishes its summary of
 * them (sums, ors and minima: the same whatever the split into workers) at `mine`, its group's slot. Returns the host
 * time it took. */
function runOwnCpus(x: WindowLoopInput, llcs: LlcGroups, mine: number, start: number, end: number): number {
  const { cpus, rings, layout: L } = x;
  let gLive = 0;
  let gError = 0;
  let gStalled = 0;
  let gPending = 0;
  let gNext = Infinity;
  let gHorizon = Infinity;
  let gKswapd = Infinity;
  let gMessages = 0;
  const runFrom = performance.now();
  for (const cpu of cpus) {
    cpu.beginWindow(start);
    cpu.runWindow(end);
    cpu.endWindow(end);
  }
  // Woken tasks waiting behind a busy CPU move to an idle one of their LLC (this worker hosts the whole LLC).
  if (llcs) balanceLlcs(llcs, end);
  for (const cpu of cpus) {
    const c = cpu.id;
    // The zone's commit reads each CPU's clock (a lagging CPU's allocations are applied at its own time).
    rings[L.clockOffset + c] = cpu.nowNs;
    gLive += cpu.liveTasks();
    if (cpu.error) gError = 1;
    if (cpu.stalledThisRound) gStalled = 1;
    const sent = rings[L.outboxOffset + c * L.outboxStride]!;
    gMessages += sent;
    gPending += sent + rings[L.zoneWorkOffset + c * L.zoneWorkStride]! + rings[L.lockLogOffset + c * L.lockLogStride]!;
    gNext = Math.min(gNext, cpu.heap.peekTimeNs());
    gHorizon = Math.min(gHorizon, cpu.nowNs);
    gKswapd = Math.min(gKswapd, rings[L.kswapdWakeOffset + c]!);
  }
  rings[mine + GR_LIVE] = gLive;
  rings[mine + GR_ERROR] = gError;
  rings[mine + GR_STALLED] = gStalled;
  rings[mine + GR_PENDING] = gPending;
  rings[mine + GR_NEXT] = gNext;
  rings[mine + GR_HORIZON] = gHorizon;
  rings[mine + GR_KSWAPD] = gKswapd;
  rings[mine + GR_MESSAGES] = gMessages;
  const runNs = (performance.now() - runFrom) * 1e6;
  rings[mine + GR_RUN_NS] = runNs;
  return runNs;
}

/** The whole machine's state after phase A, from every worker's summary (every worker reads the same). */
interface RoundSummary {
  live: number;
  failed: boolean;
  stalled: boolean;
  pending: number;
  next: number;
  slowestRunNs: number;
}

/** Every worker's summary of phase A, summed; the commits' RoundInfo (kswapd's wake, the CPUs' horizon) set. */
function readSummaries(x: WindowLoopInput, info: RoundInfo): RoundSummary {
  const { rings, layout: L } = x;
  const sum: RoundSummary = { live: 0, failed: false, stalled: false, pending: 0, next: Infinity, slowestRunNs: 0 };
  info.kswapdWakeNs = Infinity;
  info.horizonNs = Infinity;
  for (const first of x.groupCpus) {
    const g = L.groupOffset + first * GR_F64;
    sum.slowestRunNs = Math.max(sum.slowestRunNs, rings[g + GR_RUN_NS]!);
    info.horizonNs = Math.min(info.horizonNs, rings[g + GR_HORIZON]!);
    info.kswapdWakeNs = Math.min(info.kswapdWakeNs, rings[g + GR_KSWAPD]!);
    sum.live += rings[g + GR_LIVE]!;
    if (rings[g + GR_ERROR]) sum.failed = true;
    if (rings[g + GR_STALLED]) sum.stalled = true;
    sum.pending += rings[g + GR_PENDING]!;
    sum.next = Math.min(sum.next, rings[g + GR_NEXT]!);
  }
  return sum;
}

/** Phase B: this worker's commits for the window that ended at `end`; whether one answered a waiter, and the host
 * time they took less what they waited for other workers' parts. */
function runCommits(
  x: WindowLoopInput,
  st: LoopState,
  end: number,
  info: RoundInfo,
): { committed: boolean; ownCommitNs: number } {
  let committed = false;
  let ownCommitNs = 0;
  if (x.commits.length > 0) {
    const commitFrom = performance.now();
    const waitedBefore = x.commitWaits.ns;
    for (const commit of x.commits) if (commit(end, info) === true) committed = true;
    const commitNs = (performance.now() - commitFrom) * 1e6;
    st.commitNs += commitNs;
    ownCommitNs = commitNs - (x.commitWaits.ns - waitedBefore);
  }
  return { committed, ownCommitNs };
}

/** The leader's decision for every worker: whether a commit left work, and the main thread's requests (read once,
 * here, and turned into one decision every worker reads after the barrier); the progress it shows. */
function decide(ctl: Int32Array, committed: boolean, windows: number, end: number): void {
  Atomics.store(ctl, C_COMMIT_PENDING, committed ? 1 : 0);
  const stop = Atomics.exchange(ctl, C_STOP_REQ, 0) !== 0;
  const pause = Atomics.exchange(ctl, C_PAUSE_REQ, 0) !== 0;
  Atomics.store(ctl, C_DECISION, stop ? DECISION_STOP : pause ? DECISION_PAUSE : DECISION_GO);
  Atomics.store(ctl, C_WINDOWS, windows);
  Atomics.store(ctl, C_PROGRESS_US, Math.floor(end / 1000));
}

/** The longest any worker's own commits took this round (the round's critical path). */
function slowestCommitNs(x: WindowLoopInput): number {
  let most = 0;
  for (const first of x.groupCpus)
    most = Math.max(most, x.rings[x.layout.groupOffset + first * GR_F64 + GR_COMMIT_NS]!);
  return most;
}

/** The loop's result so far; with an end reason, the run ended: the CPUs charge their time up to simulatedNs, and
 * the result is kept for any later call. */
function finishLoop(x: WindowLoopInput, st: LoopState, endReason: EndReason | null, simulatedNs: number) {
  const r: WindowLoopResult = {
    endReason,
    simulatedNs,
    windows: st.windows,
    barrierRounds: x.barrier.rounds,
    barrierNs: st.barrierNs,
    runNs: st.runNs,
    commitNs: st.commitNs,
    commitWaitNs: x.commitWaits.ns,
    criticalRunNs: st.criticalRunNs,
    criticalCommitNs: st.criticalCommitNs,
    subRounds: st.subRounds,
    lagCarried: st.lagCarried,
  };
  if (endReason !== null) {
    st.ended = r;
    for (const cpu of x.cpus) cpu.settle(simulatedNs);
  }
  return r;
}

export function runWindows(x: WindowLoopInput, st: LoopState): WindowLoopResult {
  if (st.ended) return st.ended;
  const { cpus, ctl, rings, layout: L, barrier } = x;
  const llcs = x.llcOf ? llcGroups(cpus, x.llcOf) : null;
  const timedWait = () => {
    const t0 = performance.now();
    barrier.wait();
    st.barrierNs += (performance.now() - t0) * 1e6;
  };
  const finish = (endReason: EndReason | null, simulatedNs: number) => finishLoop(x, st, endReason, simulatedNs);
  const mine = L.groupOffset + cpus[0]!.id * GR_F64;
  const info: RoundInfo = { kswapdWakeNs: Infinity, horizonNs: 0 };
  try {
    for (;;) {
      const start = st.startNs;
      const sub = st.subEndNs >= 0;
      const end = sub ? st.subEndNs : Math.min(start + x.windowNs, x.durationNs);
      st.windows++;
      st.runNs += runOwnCpus(x, llcs, mine, start, end);
      timedWait();
      // Everyone reads the same published state here: one summary per worker.
      const sum = readSummaries(x, info);
      st.criticalRunNs += sum.slowestRunNs;
      collectMessages(x, rings, L);
      const { committed, ownCommitNs } = runCommits(x, st, end, info);
      rings[mine + GR_COMMIT_NS] = ownCommitNs;
      if (x.leader) decide(ctl, committed, st.windows, end);
      timedWait();
      st.criticalCommitNs += slowestCommitNs(x);
      const decision = Atomics.load(ctl, C_DECISION);
      sum.pending += Atomics.load(ctl, C_COMMIT_PENDING);
      for (const cpu of cpus) {
        cpu.collectResults();
        cpu.clearRings();
      }
      // A double free the commit judged by simulated time fails its culprit's task, on the CPU that ran it.
      const culprit = rings[L.verdictOffset + VD_CPU]!;
      if (culprit >= 0) {
        sum.failed = true;
        const c = cpus.find((x) => x.id === culprit);
        c?.failFree(rings[L.verdictOffset + VD_TASK]!, rings[L.verdictOffset + VD_TIME]!, verdictMessage(rings, L));
      }
      if (sum.failed) return finish('task-error', end);
      if (decision === DECISION_STOP) return finish('stopped', end);
      if (sum.stalled && st.subRoundsHere < SUB_ROUNDS_MAX) {
        // Run the window again to the same end: the stalled CPUs resume at their answers' times.
        st.subEndNs = end;
        st.subRoundsHere++;
        st.subRounds++;
        if (decision === DECISION_PAUSE) return finish(null, end);
        continue;
      }
      if (sum.stalled) st.lagCarried++;
      st.subEndNs = -1;
      st.subRoundsHere = 0;
      if (end >= x.durationNs) return finish('duration', x.durationNs);
      if (sum.pending === 0 && sum.next === Infinity) return finish(sum.live === 0 ? 'all-exited' : 'deadlock', end);
      const nextStart = sum.pending > 0 ? end : Math.max(end, Math.min(sum.next, x.durationNs));
      if (nextStart >= x.durationNs) {
        for (const cpu of cpus) cpu.runWindow(x.durationNs);
        return finish('duration', x.durationNs);
      }
      st.startNs = nextStart;
      if (decision === DECISION_PAUSE) return finish(null, end);
    }
  } catch (e) {
    if (e instanceof BarrierAborted) return finish('aborted', st.startNs);
    throw e;
  }
}
