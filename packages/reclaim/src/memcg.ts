// memcg: memory cgroups as the kernel holds a task accountable (mm/memcontrol.c, simplified). Groups are declared in
// the reclaim module's args (`memcgs: [{ name, maxPages?, highPages? }]`) and a task joins one with args.memcg.
// A group's charge is what its tasks hold of pages allocated with __GFP_ACCOUNT (the zone counts them per owner);
// the commit sums it between windows and publishes it. During a window each CPU adds its own new charges to the
// published figure and may charge at most MEMCG_CHARGE_BATCH pages per group before it must wait for the commit:
// the kernel's per-CPU charge stock, the only slack in its page counter. (A page the zone granted but whose charge
// is decided in the next window, or one given back whose free has not landed, counts at a commit: a group may show
// one page per such task over its limit.)
// - Over memory.max: a caller that cannot sleep fails (the page goes back, the allocation fails); one that can
//   reclaims inside its group (its tasks' page cache), up to MAX_RECLAIM_RETRIES passes, then the memcg OOM killer
//   picks the group's largest task, and the charge is tried once more.
// - Over memory.high: the charge succeeds, and the task owes a penalty: on its next return to user space it
//   sleeps (overage / high)^2 x (pages charged over high) seconds, at most 2 s, nothing under 10 ms
//   (calculate_high_delay with MEMCG_DELAY_PRECISION_SHIFT 20 and MEMCG_DELAY_SCALING_SHIFT 14). A caller that can
//   sleep pays at once once it owes more than a batch, after a reclaim pass inside its group. GFP_NOWAIT|
//   __GFP_ACCOUNT charges owe the same penalty: the discussion's "held accountable". (The reclaim the kernel also
//   does on that return to user space is not modelled; the penalty is.)
import { z } from 'zod';
import type { RunConfig, TaskContext, TaskOp } from '@faultline/engine';
import { __GFP_DIRECT_RECLAIM } from '@faultline/gfp';
import type { MemoryNode } from '@faultline/zone';
import {
  M_OOM_KILLS,
  M_PEAK,
  M_USAGE,
  MEMCG_F64,
  T_MEMCG_FAILS,
  T_MEMCG_OVER_HIGH,
  T_MEMCG_PENALTY_NS,
  T_MEMCG_RECLAIMED,
  type ReclaimLayout,
} from './layout.js';

/** MEMCG_CHARGE_BATCH: pages a CPU may charge to a group before the shared counter must see them. */
export const MEMCG_CHARGE_BATCH = 64;
export const MEMCG_MAX_HIGH_DELAY_NS = 2_000_000_000;
export const MEMCG_MIN_HIGH_DELAY_NS = 10_000_000;

export const memcgSchema = z
  .array(
    z
      .object({
        name: z.string().min(1),
        /** memory.max in pages; absent: no limit. */
        maxPages: z.number().int().min(1).optional(),
        /** memory.high in pages; absent: no limit. */
        highPages: z.number().int().min(1).optional(),
      })
      .strict(),
  )
  .default([]);
export type MemcgSpec = z.infer<typeof memcgSchema>[number];

/** Each task's group index (-1: none), checked against the declared groups. */
export function memcgOfTasks(config: RunConfig, groups: readonly MemcgSpec[]): number[] {
  const names = groups.map((g) => g.name);
  if (new Set(names).size !== names.length)
    throw new Error(`reclaim module: memcgs: names must be unique; got ${names.join(', ')}`);
  return config.tasks.map((t) => {
    if (t.args.memcg === undefined) return -1;
    const g = names.indexOf(String(t.args.memcg));
    if (g < 0)
      throw new Error(
        `task '${t.name}': memcg '${String(t.args.memcg)}' is not declared; allowed: ${names.join(', ') || '(none: declare memcgs in the reclaim module args)'}`,
      );
    return g;
  });
}

/** The memory.high penalty, in ns, for `pagesOver` pages charged while the group was at `usage` against `high`. */
export function highPenaltyNs(usage: number, high: number, pagesOver: number): number {
  if (usage <= high || pagesOver <= 0) return 0;
  const overage = (usage - high) / high;
  const ns = Math.min(MEMCG_MAX_HIGH_DELAY_NS, overage * overage * pagesOver * 1e9);
  return ns <= MEMCG_MIN_HIGH_DELAY_NS ? 0 : Math.round(ns);
}

/** What a CPU needs to charge: the layout, the groups, and its own charges this window. */
export interface MemcgCpu {
  readonly mem: Float64Array;
  readonly L: ReclaimLayout;
  readonly groups: readonly MemcgSpec[];
  readonly taskGroup: readonly number[];
  /** Pages this CPU charged to each group since the window began. */
  readonly localCharges: number[];
  taskCounter(taskId: number, word: number): number;
}

const usageOf = (c: MemcgCpu, g: number) => c.mem[c.L.memcgOffset + g * MEMCG_F64 + M_USAGE]!;

/** The charge a CPU sees for group g: the last commit's sum plus its own charges since. */
export function memcgUsage(c: MemcgCpu, g: number): number {
  return usageOf(c, g) + c.localCharges[g]!;
}

type Path<T> = Generator<TaskOp, T, number>;
/** Kernel steps the charge needs from the reclaim API (kept there, where requests are made). */
export interface ChargeSteps {
  sync(): Path<number>;
  groupReclaim(g: number): Path<number>;
  groupOom(g: number): Path<number>;
}

/**
 * try_charge for one page just granted to `ctx`'s task under `mask`: true when charged, false when the caller must
 * give the page back and fail.
 */
export function* chargePage(
  ctx: Pick<TaskContext, 'id' | 'sleep'>,
  c: MemcgCpu,
  mask: number,
  steps: ChargeSteps,
  maxRetries: number,
): Path<boolean> {
  const g = c.taskGroup[ctx.id]!;
  if (g < 0) return true;
  const { maxPages, highPages } = c.groups[g]!;
  if (maxPages === undefined && highPages === undefined) return true;
  const m = c.mem;
  const canSleep = (mask & __GFP_DIRECT_RECLAIM) !== 0;
  // The CPU's stock is spent: the shared counter must see these charges first.
  while (c.localCharges[g]! >= MEMCG_CHARGE_BATCH) yield* steps.sync();
  if (maxPages !== undefined && memcgUsage(c, g) + 1 > maxPages) {
    if (!canSleep) {
      m[c.taskCounter(ctx.id, T_MEMCG_FAILS)]!++;
      return false;
    }
    let tries = 0;
    let killed = false;
    while (memcgUsage(c, g) + 1 > maxPages) {
      if (tries++ < maxRetries) {
        m[c.taskCounter(ctx.id, T_MEMCG_RECLAIMED)]! += yield* steps.groupReclaim(g);
        yield* steps.sync(); // see the group's charge after the reclaim
        continue;
      }
      if (killed || (yield* steps.groupOom(g)) < 0) {
        m[c.taskCounter(ctx.id, T_MEMCG_FAILS)]!++;
        return false;
      }
      killed = true;
      yield* steps.sync();
    }
  }
  c.localCharges[g]!++;
  if (highPages !== undefined && memcgUsage(c, g) > highPages) {
    const over = ++m[c.taskCounter(ctx.id, T_MEMCG_OVER_HIGH)]!;
    if (canSleep && over > MEMCG_CHARGE_BATCH) {
      // mem_cgroup_handle_over_high from the charge path: reclaim inside the group, then the penalty.
      m[c.taskCounter(ctx.id, T_MEMCG_RECLAIMED)]! += yield* steps.groupReclaim(g);
      const ns = highPenaltyNs(memcgUsage(c, g), highPages, over);
      m[c.taskCounter(ctx.id, T_MEMCG_OVER_HIGH)] = 0;
      if (ns > 0) {
        m[c.taskCounter(ctx.id, T_MEMCG_PENALTY_NS)]! += ns;
        yield ctx.sleep(ns);
      }
    }
  }
  return true;
}

/** The return to user space: the penalty a task owes for charges over memory.high, in ns (0 if none). */
export function returnPenaltyNs(c: MemcgCpu, taskId: number): number {
  const g = c.taskGroup[taskId]!;
  if (g < 0) return 0;
  const high = c.groups[g]!.highPages;
  const w = c.taskCounter(taskId, T_MEMCG_OVER_HIGH);
  const over = c.mem[w]!;
  if (high === undefined || over === 0) return 0;
  c.mem[w] = 0;
  const ns = highPenaltyNs(memcgUsage(c, g), high, over);
  c.mem[c.taskCounter(taskId, T_MEMCG_PENALTY_NS)]! += ns;
  return ns;
}

/** The commit's side: sum each group's charge from the zone's per-owner counters and publish it. */
export function publishMemcgUsage(
  mem: Float64Array,
  L: ReclaimLayout,
  node: MemoryNode,
  taskGroup: readonly number[],
): void {
  const usage = new Array<number>(L.memcgs).fill(0);
  taskGroup.forEach((g, task) => {
    if (g >= 0) usage[g]! += node.chargedPages(task % node.owners);
  });
  for (let g = 0; g < L.memcgs; g++) {
    const b = L.memcgOffset + g * MEMCG_F64;
    mem[b + M_USAGE] = usage[g]!;
    if (usage[g]! > mem[b + M_PEAK]!) mem[b + M_PEAK] = usage[g]!;
  }
}

export interface MemcgReport {
  readonly name: string;
  readonly maxPages: number | null;
  readonly highPages: number | null;
  readonly usagePages: number;
  readonly peakPages: number;
  readonly oomKills: number;
  readonly tasks: Array<{
    task: number;
    name: string;
    chargeFailures: number;
    pagesReclaimed: number;
    penaltyNs: number;
  }>;
}

export function memcgReport(
  config: RunConfig,
  mem: Float64Array,
  L: ReclaimLayout,
  groups: readonly MemcgSpec[],
  taskGroup: readonly number[],
  taskWord: (t: number, w: number) => number,
): MemcgReport[] {
  return groups.map((spec, g) => {
    const b = L.memcgOffset + g * MEMCG_F64;
    return {
      name: spec.name,
      maxPages: spec.maxPages ?? null,
      highPages: spec.highPages ?? null,
      usagePages: mem[b + M_USAGE]!,
      peakPages: mem[b + M_PEAK]!,
      oomKills: mem[b + M_OOM_KILLS]!,
      tasks: config.tasks
        .filter((t) => taskGroup[t.id] === g)
        .map((t) => ({
          task: t.id,
          name: t.name,
          chargeFailures: mem[taskWord(t.id, T_MEMCG_FAILS)]!,
          pagesReclaimed: mem[taskWord(t.id, T_MEMCG_RECLAIMED)]!,
          penaltyNs: mem[taskWord(t.id, T_MEMCG_PENALTY_NS)]!,
        })),
    };
  });
}
