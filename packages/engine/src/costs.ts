// costs: what each operation costs in simulated time. Defaults are orders of magnitude from the kernel on current
// hardware; every run may override them, and the values are part of the run's configuration (and so its digest).

/** The fair scheduling classes a CPU may run: CFS as in 6.1 (kernel/sched/fair.c before 6.6) or EEVDF as in 6.12. */
export const SCHEDULERS = ['cfs', 'eevdf'] as const;
export type SchedulerKind = (typeof SCHEDULERS)[number];

export interface Costs {
  /** Switching from one task to another on a CPU. */
  readonly contextSwitchNs: number;
  /** How long a task may compute before it is preempted in favour of a waiting one. */
  readonly timeSliceNs: number;
  /** CFS: a waking task preempts the running one when that one's vruntime is this much ahead of it
   * (sysctl_sched_wakeup_granularity, 1 ms x (1 + log2 CPUs, at most 8 CPUs) unless set). */
  readonly wakeupGranularityNs: number;
  /** CFS: a task waking from a sleep is placed this far behind min_vruntime at most (sched_latency / 2 with
   * GENTLE_FAIR_SLEEPERS, 3 ms x the same factor unless set). */
  readonly sleeperCreditNs: number;
  /** EEVDF: the request a task makes each time it is given a new virtual deadline (sysctl_sched_base_slice,
   * 0.75 ms x (1 + log2 CPUs, at most 8) unless set). */
  readonly baseSliceNs: number;
  /** EEVDF: the most lag, either way, a task keeps when it leaves the queue (entity_lag: max(2 x the base slice,
   * TICK_NSEC) unless set). */
  readonly lagLimitNs: number;
  /** An allocation served from the CPU's list or failed at the watermark check. */
  readonly allocNs: number;
  readonly freeNs: number;
  readonly sendNs: number;
  readonly recvNs: number;
  /** From a send to the earliest delivery (an IPI's latency). */
  readonly messageLatencyNs: number;
  /** Holding the zone lock for one refill, drain or high-order operation. */
  readonly zoneLockNs: number;
  /** Taking a free lock, and releasing one. */
  readonly lockNs: number;
  readonly unlockNs: number;
  /** After a waiter slept this long for an rwsem or mutex, the lock is handed to it: queued readers and spinning
   * writers no longer pass it (RWSEM_WAIT_TIMEOUT, DIV_ROUND_UP(HZ, 250) jiffies: 4 ms at HZ=250 or 1000, unless
   * set). */
  readonly rwsemHandoffNs: number;
  /** The longest a writer or mutex waiter spins optimistically before it sleeps (need_resched ends a spin: a time
   * slice); 0 turns optimistic spinning off, every waiter then sleeps at once. */
  readonly lockSpinMaxNs: number;
  /** Touching an address that needs no fault handling. */
  readonly touchNs: number;
}

/** The preemption model (CONFIG_PREEMPT_*; Debian builds PREEMPT_DYNAMIC and boots it voluntary): 'voluntary'
 * preempts a task only outside the kernel - not while it runs a kernel path (a fault) or holds a lock - so a
 * waking task or an expired slice waits for the kernel section to end; 'full' (PREEMPT) preempts at any compute
 * boundary. */
export const PREEMPT_MODELS = ['voluntary', 'full'] as const;
export type PreemptModel = (typeof PREEMPT_MODELS)[number];

export const COSTS_DEFAULT: Costs = {
  contextSwitchNs: 2_000,
  timeSliceNs: 3_000_000,
  wakeupGranularityNs: 1_000_000,
  sleeperCreditNs: 3_000_000,
  baseSliceNs: 750_000,
  lagLimitNs: 4_000_000,
  allocNs: 150,
  freeNs: 80,
  sendNs: 300,
  recvNs: 100,
  messageLatencyNs: 1_000,
  zoneLockNs: 600,
  lockNs: 25,
  unlockNs: 15,
  rwsemHandoffNs: 4_000_000,
  lockSpinMaxNs: 3_000_000,
  touchNs: 5,
};

/** sysctl_sched_tunable_scaling (logarithmic): CFS's latency tunables and EEVDF's base slice grow with the CPU
 * count, up to 8 CPUs (update_sysctl). */
export function schedTunableFactor(cpus: number): number {
  return 1 + Math.floor(Math.log2(Math.min(Math.max(cpus, 1), 8)));
}
