// policies: the page-fault handler's policies as the mm module runs them. A policy is a kernel path run in the
// faulting task's context (the engine's fault hook) that returns the data page's pfn, FAULT_SEGV or FAULT_OOM.
// The built-in ones are XState machines (fault-machines.ts) made of steps (fault-steps.ts), compiled once and
// stepped by the engine's runMachine. A user's policy is either a machine of their own - `{ machine, steps?,
// guards? }`, or just the machine, using the built-in steps and adding theirs - or a generator function of the
// FaultContext.
import type { TaskContext } from '@faultline/engine';
import {
  checkMachine,
  compileMachine,
  machineGuards,
  runMachine,
  type KernelPath,
  type MachineGuard,
  type MachineStep,
} from '@faultline/engine/module';
import type { AnyStateMachine } from 'xstate';
import { BUILTIN_MACHINES, FAULT_GUARDS } from './fault-machines.js';
import { FAULT_STEPS, newFaultRun, type FaultRun } from './fault-steps.js';
import { T_FAULT_OOM, T_SEGV } from './layout.js';

export { GFP_DATA_PAGE, GFP_PGTABLE_USER, GFP_SPF_NOMEMALLOC, GFP_SPF_NOWAIT, REFAULT_NS } from './fault-steps.js';
/** Result of a fault: the data page's pfn, or one of these. */
export const FAULT_SEGV = -1;
export const FAULT_OOM = -2;

/** What a policy works with: the faulting task and address, and the address space as its CPU sees it. */
export interface FaultContext {
  readonly task: TaskContext;
  readonly mm: number;
  readonly address: number;
  readonly write: boolean;
  /** The engine lock name of this address space's mmap_lock. */
  readonly mmapLock: string;
  /** The pfn holding `level` for the address, or -1 if it is missing. */
  lookup(level: number): number;
  /** The VMA holding the address, or null. */
  vma(): [number, number] | null;
  /** Whether that VMA maps a resident file (its pages need no allocation). */
  fileBacked(): boolean;
  /** That VMA's generation (-1 if none), whether a writer has it write-locked (vma_start_write) and whether it has
   * its anon_vma, as of this window. */
  vmaGen(): number;
  vmaWriteLocked(): boolean;
  vmaHasAnonVma(): boolean;
  /** Whether the run's kernel handles file-backed faults under the VMA lock (v6.3+, as since 6.7; not v6.4's
   * first per-VMA locks, nor v5.18). */
  readonly perVmaFileFaults: boolean;
  /** The address space's sequence count, and whether a writer holds mmap_lock for write, as of this window. */
  seq(): number;
  writerActive(): boolean;
  /** Log an install; speculative ones carry the sequence count they read, or (per-VMA) the VMA's generation. `copy`:
   * a write fault's copy of the zero page, which replaces it (wp_page_copy) where a plain install would lose. */
  install(level: number, pfn: number, speculative: boolean, seqSeen: number, vmaGen?: number, copy?: boolean): void;
  /** Count an event in the task's fault counters (T_* in layout.ts). */
  count(word: number): void;
  /** Simulated cost of taking the page-table lock and writing one entry. */
  readonly ptlNs: number;
  /** What the speculative entry costs beyond the classic one (mmap_seq reads and the VMA snapshot), and what the
   * VMA's read lock costs (vma_start_read's trylock and vma_end_read). */
  readonly spfEntryNs: number;
  readonly vmaLockNs: number;
  /** What a new anonymous page costs beyond its allocation and the PTE lock (clear_page, the memcg charge from the
   * per-CPU stock, the LRU add into the per-CPU batch, the rmap). */
  readonly dataPageNs: number;
  /** Per-VMA faults need the anon_vma only where they prepare one (vmf_anon_prepare, 6.10 on); else at the lock. */
  readonly anonVmaAtPrepare: boolean;
  /** The cache line of the VMA's lock word (vma->vm_lock->lock.count) when the run charges lines, else null (and
   * null for a VMA this CPU mapped in this window). */
  vmaLockLine(): string | null;
  /** Counts one anonymous page into the address space's RSS (add_mm_counter): the rss_stat line when this CPU's
   * per-CPU count folds into the shared one (every percpu_counter_batch pages) and the run charges lines, else null. */
  rssStatLine(): string | null;
  /** The line a fault's read of mm->pgd touches when it is shared with others' writes: mmap_lock's, where the
   * kernel's mm_struct puts pgd beside mmap_lock's count (6.2 and before) and the run charges lines; else null. */
  pgdLine(): string | null;
  /** Counts one new page into this CPU's lru_add batch (folio_add_lru): lru_lock's name when the batch is full and
   * the run charges lines (the batch then moves onto the LRU under it, lruBatchNs), else null. */
  lruLock(): string | null;
  lruBatchNs(): number;
  /** Charges one page to the task's memcg: true when this CPU's stock ran out and the run charges lines, so that the
   * page counters' lines (memcgLines) are updated. */
  memcgCharge(): boolean;
  readonly memcgLines: readonly string[];
}

export type FaultPolicy = (f: FaultContext) => KernelPath;
/** How a fault can end: the machines' final states. */
export const FAULT_ENDS = ['mapped', 'segv', 'oom'] as const;
/** A policy as an XState machine: its steps and guards (here, or given to XState's setup) are added to, and may
 * replace, the built-in ones. */
export interface FaultMachinePolicy {
  readonly machine: AnyStateMachine;
  readonly steps?: Readonly<Record<string, MachineStep<FaultRun>>>;
  readonly guards?: Readonly<Record<string, MachineGuard<FaultRun>>>;
}

/** Turn a fault-handler machine into a policy; checks that every step and guard it names exists. */
export function machinePolicy(p: FaultMachinePolicy | AnyStateMachine): FaultPolicy {
  const spec: FaultMachinePolicy = 'root' in p ? { machine: p } : p;
  const compiled = compileMachine(spec.machine);
  const steps = { ...FAULT_STEPS, ...spec.steps };
  const guards = { ...FAULT_GUARDS, ...machineGuards<FaultRun>(spec.machine), ...spec.guards };
  checkMachine(compiled, steps, guards);
  const finals = compiled.states.filter((st) => st.final).map((st) => st.name);
  const unknown = finals.filter((n) => !(FAULT_ENDS as readonly string[]).includes(n));
  if (unknown.length)
    throw new Error(
      `fault machine '${compiled.id}': final state(s) ${unknown.join(', ')}; allowed: ${FAULT_ENDS.join(', ')}`,
    );
  if (!finals.includes('mapped')) throw new Error(`fault machine '${compiled.id}': needs a final state 'mapped'`);
  return function* (f: FaultContext) {
    const run = newFaultRun(f);
    const end = yield* runMachine(compiled, steps, guards, run);
    if (end === 'mapped') return run.page;
    f.count(end === 'segv' ? T_SEGV : T_FAULT_OOM);
    return end === 'segv' ? FAULT_SEGV : FAULT_OOM;
  };
}

export const classicFault = machinePolicy(BUILTIN_MACHINES.classic);
export const spfNowait = machinePolicy(BUILTIN_MACHINES['spf-nowait']);
export const spfNowaitLiteral = machinePolicy(BUILTIN_MACHINES['spf-nowait-literal']);
export const spfNomemallocRetry = machinePolicy(BUILTIN_MACHINES['spf-nomemalloc-retry']);
export const spfFallback = machinePolicy(BUILTIN_MACHINES['spf-fallback']);
export const perVmaLock = machinePolicy(BUILTIN_MACHINES['per-vma-lock']);

export const BUILTIN_POLICIES: Readonly<Record<string, FaultPolicy>> = {
  classic: classicFault,
  'spf-nowait': spfNowait,
  'spf-nowait-literal': spfNowaitLiteral,
  'spf-nomemalloc-retry': spfNomemallocRetry,
  'spf-fallback': spfFallback,
  'per-vma-lock': perVmaLock,
};
