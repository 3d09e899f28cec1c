// module: RCU as a faultline kernel module. Load it with `modules: [{ module: rcuModulePath }]`. In each worker it
// attaches an RcuCpu to every hosted CPU (hooks: context switch, idle, return to user, blocking, window start and
// end, a tick timer); on worker 0 its commit steps the grace-period machine (GracePeriods). Tasks and other modules
// reach the CPU they run on through the functions in api.ts, which get it from the engine (ctx.kernel(RCU)).
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { RunConfig } from '@faultline/engine';
import { type CpuHooks, defineKernelModule, parseModuleArgs } from '@faultline/engine/module';
import { startGpMachine, type GpOps } from './gp-machine.js';
import {
  C_BACKLOG,
  C_BACKLOG_MAX,
  C_CB_INVOKED,
  C_CB_QUEUED,
  C_IDLE_AT_GP,
  C_IDLE_ENTRIES,
  C_IDLE_NOW,
  C_NEED_GP,
  C_PIPE0,
  C_PIPE1,
  C_PIPE2,
  C_QS_GP,
  C_READS,
  CPU_STRIDE_I32,
  G_COMPLETED,
  G_COMPLETED_AT_F64,
  G_STARTED,
  G_STARTED_AT_F64,
  G_STATE,
  GLOBAL_I32,
  RCU_GP_STATE_NAMES,
  rcuSharedBytes,
} from './layout.js';
import { RcuCpu, type RcuOptions } from './rcu-cpu.js';

/** The path to give a run's `modules`. */
export const rcuModulePath = fileURLToPath(import.meta.url);

/** RCU_JIFFIES_TILL_FORCE_QS (kernel/rcu/tree.c): jiffies between force-quiescent-state scans, 1 + (HZ > 250) +
 * (HZ > 500), plus one per RCU_JIFFIES_FQS_DIV (256) CPUs (adjust_jiffies_till_sched_qs / rcu_init_geometry). */
export function fqsJiffies(hz: number, cpus: number): number {
  return 1 + (hz > 250 ? 1 : 0) + (hz > 500 ? 1 : 0) + Math.floor(cpus / 256);
}

/** The module's defaults; the tick is the run's jiffy (RunConfig.hz) unless args.tickNs says otherwise, and the
 * force-quiescent-state interval fqsJiffies of those ticks. */
export const RCU_DEFAULTS = {
  blimit: 10,
  qhimark: 10_000,
  qlowmark: 100,
  /** rcu_divisor: a batch is at least the ready callbacks / 2^7. */
  divisor: 7,
} as const;

export interface RcuReport {
  readonly gpCompleted: number;
  readonly gpStarted: number;
  readonly gpState: string;
  /** Grace-period durations in ns: count, min, median, p90, max. */
  readonly gpDurationNs: { count: number; min: number; p50: number; p90: number; max: number };
  readonly fqsScans: number;
  /** Read-side sections by how many GPs completed during them: 0, 1, 2 or more (2+ means RCU is broken). */
  readonly pipe: [number, number, number];
  readonly readSections: number;
  readonly callbacksQueued: number;
  readonly callbacksInvoked: number;
  readonly backlog: number;
  readonly backlogMax: number;
}

const argsSchema = z
  .object({
    /** The scheduler tick; default the run's jiffy (1e9 / hz). */
    tickNs: z.number().int().min(1_000).optional(),
    /** Between force-quiescent-state scans; default fqsJiffies(hz, cpus) ticks. */
    fqsIntervalNs: z.number().int().min(1_000).optional(),
    blimit: z.number().int().min(1).default(RCU_DEFAULTS.blimit),
    qhimark: z.number().int().min(1).default(RCU_DEFAULTS.qhimark),
    qlowmark: z.number().int().min(0).default(RCU_DEFAULTS.qlowmark),
    divisor: z.number().int().min(0).max(30).default(RCU_DEFAULTS.divisor),
    /** For testing the checker: report quiescent states even inside read-side sections. Breaks RCU on purpose. */
    brokenIgnoreReaders: z.boolean().default(false),
    /** Every grace period expedited: quiescent states reported at once (rcu_exp_handler), no tick in between. */
    expedited: z.boolean().default(false),
  })
  .strict();

/** Grace periods a traced run keeps for its trace. */
const GP_SPANS_MAX = 100_000;

const cpuWord = (cpu: number, word: number) => GLOBAL_I32 + cpu * CPU_STRIDE_I32 + word;

/** The grace-period machine's operations on the shared words (kernel/rcu/tree.c: rcu_gp_init, force_quiescent_state's
 * scan of the CPUs, rcu_gp_cleanup), and what the report counts of them: each GP's duration, the first
 * GP_SPANS_MAX as spans for a trace, the FQS scans. Worker 0's commit steps the machine. */
class GracePeriods implements GpOps {
  nowNs = 0;
  readonly durations: number[] = [];
  /** The first GP_SPANS_MAX grace periods as [start, end, start, end, ...] ns, for the trace. */
  readonly spans: number[] = [];
  fqsScans = 0;
  private gpStartNs = 0;
  private lastFqsNs = 0;

  constructor(
    private readonly cpus: number,
    private readonly mem: Int32Array,
    private readonly globals: Float64Array,
    private readonly fqsIntervalNs: number,
  ) {}

  needGp(): boolean {
    const mem = this.mem;
    for (let c = 0; c < this.cpus; c++) if (mem[cpuWord(c, C_NEED_GP)]! > mem[G_STARTED]!) return true;
    return false;
  }

  startGp(): void {
    const mem = this.mem;
    mem[G_STARTED]!++;
    this.globals[G_STARTED_AT_F64] = this.nowNs;
    for (let c = 0; c < this.cpus; c++) mem[cpuWord(c, C_IDLE_AT_GP)] = mem[cpuWord(c, C_IDLE_ENTRIES)]!;
    this.gpStartNs = this.lastFqsNs = this.nowNs;
  }

  allReported(): boolean {
    const mem = this.mem;
    const g = mem[G_STARTED]!;
    for (let c = 0; c < this.cpus; c++) if (mem[cpuWord(c, C_QS_GP)]! < g) return false;
    return true;
  }

  fqsDue(): boolean {
    return this.nowNs - this.lastFqsNs >= this.fqsIntervalNs;
  }

  /** CPUs in an extended quiescent state (idle now, or idle at some point since the GP began) report. */
  fqsScan(): void {
    const mem = this.mem;
    this.fqsScans++;
    this.lastFqsNs = this.nowNs;
    const g = mem[G_STARTED]!;
    for (let c = 0; c < this.cpus; c++) {
      if (mem[cpuWord(c, C_QS_GP)]! >= g) continue;
      if (mem[cpuWord(c, C_IDLE_NOW)] === 1 || mem[cpuWord(c, C_IDLE_ENTRIES)] !== mem[cpuWord(c, C_IDLE_AT_GP)])
        mem[cpuWord(c, C_QS_GP)] = g;
    }
  }

  completeGp(): void {
    this.mem[G_COMPLETED]!++;
    this.globals[G_COMPLETED_AT_F64] = this.nowNs;
    this.durations.push(this.nowNs - this.gpStartNs);
    if (this.spans.length < GP_SPANS_MAX * 2) this.spans.push(this.gpStartNs, this.nowNs);
  }

  publish(state: number): void {
    this.mem[G_STATE] = state;
  }
}

/** One CPU's hooks: quiescent states at a context switch, at idle and at the return to user space outside a
 * read-side section; sleeping refused inside one; a killed reader dropped; the window's start and end. */
function rcuCpuHooks(rc: RcuCpu): CpuHooks {
  return {
    state: rc, // api.ts's rcuOf: ctx.kernel(RCU)
    contextSwitch: () => rc.noteQs(),
    idle: () => rc.noteIdle(),
    returnToUser: (taskId) => {
      if (rc.nesting(taskId) === 0) rc.noteQs();
      return 0;
    },
    blocking: (taskId, state) => rc.blockingMessage(taskId, state),
    taskKilled: (taskId) => rc.dropReader(taskId),
    windowStart: () => rc.windowStart(),
    windowEnd: () => rc.windowEnd(),
  };
}

/** The module's report: the grace periods' count, state and durations, FQS scans, and the CPUs' counters summed. */
function rcuReport(cpus: number, mem: Int32Array, gp: GracePeriods): RcuReport {
  const sum = (w: number) => Array.from({ length: cpus }, (_, c) => mem[cpuWord(c, w)]!).reduce((a, b) => a + b, 0);
  const sorted = [...gp.durations].sort((a, b) => a - b);
  return {
    gpCompleted: mem[G_COMPLETED]!,
    gpStarted: mem[G_STARTED]!,
    gpState: RCU_GP_STATE_NAMES[mem[G_STATE]!] ?? String(mem[G_STATE]),
    gpDurationNs: {
      count: sorted.length,
      min: sorted[0] ?? 0,
      p50: sorted[Math.floor(sorted.length / 2)] ?? 0,
      p90: sorted[Math.floor(sorted.length * 0.9)] ?? 0,
      max: sorted.at(-1) ?? 0,
    },
    fqsScans: gp.fqsScans,
    pipe: [sum(C_PIPE0), sum(C_PIPE1), sum(C_PIPE2)],
    readSections: sum(C_READS),
    callbacksQueued: sum(C_CB_QUEUED),
    callbacksInvoked: sum(C_CB_INVOKED),
    backlog: sum(C_BACKLOG),
    backlogMax: Math.max(0, ...Array.from({ length: cpus }, (_, c) => mem[cpuWord(c, C_BACKLOG_MAX)]!)),
  };
}

export default defineKernelModule({
  name: 'rcu',
  sharedBytes: (config: RunConfig) => rcuSharedBytes(config.cpus),
  setup({ config, worker, shared, args }) {
    const a = parseModuleArgs('rcu', argsSchema, args);
    const tickNs = a.tickNs ?? config.jiffyNs;
    const o: RcuOptions & { fqsIntervalNs: number } = {
      ...a,
      tickNs,
      fqsIntervalNs: a.fqsIntervalNs ?? fqsJiffies(config.hz, config.cpus) * tickNs,
    };
    const mem = new Int32Array(shared);
    const globals = new Float64Array(shared, 0, GLOBAL_I32 / 2);
    const gp = new GracePeriods(config.cpus, mem, globals, o.fqsIntervalNs);
    const machine = worker === 0 ? startGpMachine(gp) : null;
    return {
      attachCpu: (cpu) => rcuCpuHooks(new RcuCpu(cpu, mem, o)),
      commit(windowEndNs) {
        const before = mem[G_COMPLETED]!;
        machine!.step(windowEndNs);
        // A completed GP makes callbacks ready: let the next window start at once. An expedited GP in progress
        // reaches every CPU at once too (its IPIs): no window is skipped until it ends.
        return mem[G_COMPLETED]! !== before || (o.expedited && mem[G_STARTED]! > mem[G_COMPLETED]!);
      },
      /** For a traced run: the grace periods as rcu_grace_period slices (the first GP_SPANS_MAX). */
      traceReport: () => ({ gracePeriods: gp.spans }),
      report: (): RcuReport => rcuReport(config.cpus, mem, gp),
    };
  },
});
