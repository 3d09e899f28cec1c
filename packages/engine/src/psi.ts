// psi: memory pressure stall information as kernel/sched/psi.c computes it. Each CPU accounts, between its events,
// the time its state held: SOME while at least one task is in a memory stall (psi_memstall_enter .. leave: direct
// reclaim, memory.high throttling), FULL while every runnable task is (tasks[NR_RUNNING] ==
// tasks[NR_MEMSTALL_RUNNING], an idle CPU with a stalled sleeper included), and NONIDLE while any task runs, waits
// to run or is stalled. Times are kept per 2 s period (PSI_FREQ). The system's figure for a period weighs each CPU
// by its non-idle time (collect_percpu_times: sum(stall_cpu x nonidle_cpu) / sum(nonidle_cpu)); the total is the
// sum over periods, and avg10/avg60/avg300 are calc_avgs's exponential averages over the completed periods.

/** PSI_FREQ: the averaging period, 2 s. */
export const PSI_PERIOD_NS = 2_000_000_000;

/** One CPU's stall times, per period: [some, full, nonidle] ns. */
export type PsiPeriods = Array<[number, number, number]>;

export class PsiCpu {
  private readonly done: PsiPeriods = [];
  /** The period being filled: its index, where it ends, and its times so far (kept out of the array: this runs
   * between every two events). */
  private period = 0;
  /** Public for the scheduler's fast path (scheduler.ts advanceTo): it adds busy time here directly. */
  periodEndNs = PSI_PERIOD_NS;
  private someNs = 0;
  private fullNs = 0;
  nonidleNs = 0;

  /** Every period so far, the one being filled included. */
  get periods(): PsiPeriods {
    const out = this.done.map((r) => [...r] as [number, number, number]);
    while (out.length <= this.period) out.push([0, 0, 0]);
    const last = out[this.period]!;
    last[0] += this.someNs;
    last[1] += this.fullNs;
    last[2] += this.nonidleNs;
    return out;
  }

  /** Account [fromNs, toNs) in the given state, split at period boundaries. */
  account(fromNs: number, toNs: number, some: boolean, full: boolean, nonidle: boolean): void {
    if (!nonidle) return; // a stalled task makes its CPU non-idle, so !nonidle means nothing to count
    if (toNs <= this.periodEndNs) {
      const dt = toNs - fromNs;
      this.nonidleNs += dt;
      if (some) {
        this.someNs += dt;
        if (full) this.fullNs += dt;
      }
      return;
    }
    this.accountSlow(fromNs, toNs, some, full);
  }

  private accountSlow(fromNs: number, toNs: number, some: boolean, full: boolean): void {
    let t = fromNs;
    while (t < toNs) {
      if (t >= this.periodEndNs) this.roll(Math.floor(t / PSI_PERIOD_NS));
      const end = Math.min(toNs, this.periodEndNs);
      const dt = end - t;
      this.nonidleNs += dt;
      if (some) this.someNs += dt;
      if (full) this.fullNs += dt;
      t = end;
    }
  }

  /** Close the period being filled and start period p. */
  private roll(p: number): void {
    while (this.done.length < this.period) this.done.push([0, 0, 0]);
    this.done[this.period] = [this.someNs, this.fullNs, this.nonidleNs];
    this.someNs = this.fullNs = this.nonidleNs = 0;
    this.period = p;
    this.periodEndNs = (p + 1) * PSI_PERIOD_NS;
  }
}

export interface PsiLine {
  readonly avg10: number;
  readonly avg60: number;
  readonly avg300: number;
  /** Microseconds, as /proc/pressure/memory prints it. */
  readonly totalUs: number;
}

export interface PsiMemory {
  readonly some: PsiLine;
  readonly full: PsiLine;
}

/** calc_avgs: EXP_10s, EXP_60s, EXP_300s for a 2 s period. */
const DECAY = [Math.exp(-2 / 10), Math.exp(-2 / 60), Math.exp(-2 / 300)] as const;

/** The system's /proc/pressure/memory from every CPU's periods; `simulatedNs` says which periods completed. */
export function psiMemory(cpus: readonly PsiPeriods[], simulatedNs: number): PsiMemory {
  const periods = Math.max(0, ...cpus.map((c) => c.length));
  const completed = Math.floor(simulatedNs / PSI_PERIOD_NS);
  const line = (k: 0 | 1): PsiLine => {
    let total = 0;
    const avg = [0, 0, 0];
    for (let p = 0; p < periods; p++) {
      let weighted = 0;
      let nonidle = 0;
      for (const c of cpus) {
        const row = c[p];
        if (!row) continue;
        weighted += row[k] * row[2];
        nonidle += row[2];
      }
      const stall = nonidle > 0 ? weighted / nonidle : 0;
      total += stall;
      if (p < completed) {
        const pct = Math.min(100, (stall / PSI_PERIOD_NS) * 100);
        for (let i = 0; i < 3; i++) avg[i] = avg[i]! * DECAY[i]! + pct * (1 - DECAY[i]!);
      }
    }
    const r2 = (x: number) => Math.round(x * 100) / 100;
    return { avg10: r2(avg[0]!), avg60: r2(avg[1]!), avg300: r2(avg[2]!), totalUs: Math.floor(total / 1000) };
  };
  return { some: line(0), full: line(1) };
}

/** The two lines of /proc/pressure/memory. */
export function formatPsi(m: PsiMemory): string {
  const l = (name: string, x: PsiLine) =>
    `${name} avg10=${x.avg10.toFixed(2)} avg60=${x.avg60.toFixed(2)} avg300=${x.avg300.toFixed(2)} total=${x.totalUs}`;
  return `${l('some', m.some)}\n${l('full', m.full)}`;
}
