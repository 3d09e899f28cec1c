// fault-machines: the page-fault handler's policies as XState machines (kernel-facts §1, §7, §9; mm/memory.c). Each
// atomic state runs the step its meta names (fault-steps.ts) and moves on the event the step returns; the final
// states say how the fault ended: mapped, segv or oom. The machines' context is the fault's FaultRun.
//   classic               mmap_lock for read; missing levels and the page with sleeping masks; unlock.
//   spf-nowait            speculative under rcu_read_lock, missing levels with GFP_NOWAIT; a failed allocation
//                         means VM_FAULT_RETRY and, within the same fault, the classic path under mmap_lock, which
//                         allocates with sleeping masks and so reclaims (Lespinasse's SPF series, x86: spf_abort
//                         goes on to the mmap_lock fault; per-VMA locks' VM_FAULT_RETRY does the same); a writer or
//                         a missing VMA means the classic path too.
//   spf-nowait-literal    the first proposal's rules taken literally: as spf-nowait, but a failed allocation returns
//                         VM_FAULT_RETRY to user space, which faults again, speculatively: it never reclaims.
//   spf-nomemalloc-retry  Wilcox's mask; on failure rcu_read_unlock, one direct-reclaim pass, one more speculative
//                         try, then the classic path.
//   spf-fallback          speculative only when every level exists; otherwise the classic path.
//   per-vma-lock          lock_vma_under_rcu: the VMA found under RCU and read-locked unless a writer has it write-
//                         locked or the kernel does not handle it under the VMA lock (file-backed before 6.7, an
//                         anonymous VMA without its anon_vma: any fault before 6.10, a write fault since); tables and
//                         page with sleeping masks outside RCU, under the VMA's lock: only a change to this VMA makes
//                         its installs stale. Otherwise the classic path, in the same fault.
import { machineGuards, type MachineGuard } from '@faultline/engine/module';
import { setup } from 'xstate';
import type { FaultRun } from './fault-steps.js';

const machine = setup({
  types: { context: {} as FaultRun, input: {} as FaultRun, events: {} as { type: string } },
  guards: {
    /** The fault already reclaimed and retried once. */
    retried: ({ context }) => context.retries > 0,
  },
});

/** The classic path, from taking mmap_lock ('lock') to a final state. */
const CLASSIC_STATES = {
  lock: { meta: { step: 'lockMmap' }, on: { done: 'classicVma' } },
  classicVma: { meta: { step: 'vma' }, on: { found: 'classicTables', none: 'unlockSegv' } },
  classicTables: { meta: { step: 'tablesSleeping' }, on: { ok: 'classicPage', fail: 'unlockOom' } },
  classicPage: { meta: { step: 'dataPage' }, on: { ok: 'unlock', fail: 'unlockOom' } },
  unlock: { meta: { step: 'unlockMmap' }, on: { done: 'mapped' } },
  unlockSegv: { meta: { step: 'unlockMmap' }, on: { done: 'segv' } },
  unlockOom: { meta: { step: 'unlockMmap' }, on: { done: 'oom' } },
  mapped: { type: 'final' as const },
  segv: { type: 'final' as const },
  oom: { type: 'final' as const },
};

/** Leaving the speculative path: count it, then the classic path. */
const FALL_BACK = {
  rcuUnlockFallBack: { meta: { step: 'rcuUnlock' }, on: { done: 'fallBack' } },
  fallBack: { meta: { step: 'fellBack' }, on: { done: 'lock' } },
};

/** The speculative walk's start: no writer (else the classic path), rcu_read_lock, the VMA (else out of RCU and
 * the classic path); then `next`. */
const speculativeEntry = (next: string) => ({
  writer: { on: { active: 'fallBack', clear: 'rcuLock' } },
  rcuLock: { on: { done: 'vma' } },
  vma: { on: { found: next, none: 'rcuUnlockFallBack' } },
});

/** A speculative fault with its tables: out of RCU, the data page, done. */
const SPECULATIVE_PAGE = {
  rcuUnlockPage: { meta: { step: 'rcuUnlock' }, on: { done: 'page' } },
  page: { meta: { step: 'dataPage' }, on: { ok: 'speculativeDone', fail: 'oom' } },
  speculativeDone: { meta: { step: 'speculativeDone' }, on: { done: 'mapped' } },
};

export const classicMachine = machine.createMachine({
  id: 'classic',
  initial: 'lock',
  context: ({ input }) => input,
  states: CLASSIC_STATES,
});

export const spfNowaitMachine = machine.createMachine({
  id: 'spf-nowait',
  initial: 'writer',
  context: ({ input }) => input,
  states: {
    ...speculativeEntry('tables'),
    // VM_FAULT_RETRY from the speculative path: the mmap_lock fault follows in the same fault.
    tables: { meta: { step: 'tablesNowait' }, on: { ok: 'rcuUnlockPage', fail: 'rcuUnlockFallBack' } },
    ...SPECULATIVE_PAGE,
    ...FALL_BACK,
    ...CLASSIC_STATES,
  },
});

export const spfNowaitLiteralMachine = machine.createMachine({
  id: 'spf-nowait-literal',
  initial: 'writer',
  context: ({ input }) => input,
  states: {
    ...speculativeEntry('tables'),
    tables: { meta: { step: 'tablesNowait' }, on: { ok: 'rcuUnlockPage', fail: 'rcuUnlockRefault' } },
    rcuUnlockRefault: { meta: { step: 'rcuUnlock' }, on: { done: 'refault' } },
    refault: { on: { done: 'writer' } },
    ...SPECULATIVE_PAGE,
    ...FALL_BACK,
    ...CLASSIC_STATES,
  },
});

export const spfNomemallocRetryMachine = machine.createMachine({
  id: 'spf-nomemalloc-retry',
  initial: 'writer',
  context: ({ input }) => input,
  states: {
    ...speculativeEntry('tables'),
    tables: { meta: { step: 'tablesNomemalloc' }, on: { ok: 'rcuUnlockPage', fail: 'rcuUnlockFailed' } },
    rcuUnlockFailed: {
      meta: { step: 'rcuUnlock' },
      on: { done: [{ guard: 'retried', target: 'fallBack' }, { target: 'reclaim' }] },
    },
    reclaim: { on: { done: 'writer' } },
    ...SPECULATIVE_PAGE,
    ...FALL_BACK,
    ...CLASSIC_STATES,
  },
});

export const spfFallbackMachine = machine.createMachine({
  id: 'spf-fallback',
  initial: 'writer',
  context: ({ input }) => input,
  states: {
    ...speculativeEntry('levels'),
    levels: { on: { present: 'rcuUnlockPage', missing: 'rcuUnlockFallBack' } },
    ...SPECULATIVE_PAGE,
    ...FALL_BACK,
    ...CLASSIC_STATES,
  },
});

export const perVmaLockMachine = machine.createMachine({
  id: 'per-vma-lock',
  initial: 'rcuLock',
  context: ({ input }) => input,
  states: {
    rcuLock: { on: { done: 'vma' } },
    vma: { on: { found: 'lockVma', none: 'rcuUnlockFallBack' } },
    lockVma: { on: { locked: 'rcuUnlockTables', busy: 'rcuUnlockFallBack', unsupported: 'rcuUnlockFallBack' } },
    rcuUnlockTables: { meta: { step: 'rcuUnlock' }, on: { done: 'tables' } },
    tables: { meta: { step: 'tablesSleeping' }, on: { ok: 'page', fail: 'oom' } },
    page: { meta: { step: 'dataPage' }, on: { ok: 'speculativeDone', fail: 'oom' } },
    speculativeDone: { on: { done: 'mapped' } },
    ...FALL_BACK,
    ...CLASSIC_STATES,
  },
});

/** The guards every built-in fault machine may use (they share one setup), as the stepper calls them. */
export const FAULT_GUARDS: Readonly<Record<string, MachineGuard<FaultRun>>> = machineGuards(classicMachine);

export const BUILTIN_MACHINES = {
  classic: classicMachine,
  'spf-nowait': spfNowaitMachine,
  'spf-nowait-literal': spfNowaitLiteralMachine,
  'spf-nomemalloc-retry': spfNomemallocRetryMachine,
  'spf-fallback': spfFallbackMachine,
  'per-vma-lock': perVmaLockMachine,
} as const;
