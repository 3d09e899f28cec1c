// @faultline/mm: address spaces, page tables and the page-fault handler with selectable policies.
export {
  MM,
  mmModulePath,
  mmRunParts,
  mmapLockName,
  PAGE_BYTES,
  VMA_SLOTS_DEFAULT,
  MM_STRUCT_LAYOUTS,
  RCU_WALKING_POLICIES,
  tableFreeingFor,
} from './module.js';
export type { MmCounter, MmReport, MmStructLayout, MmTaskReport } from './module.js';
export { vmstatOf, VMSTAT_NAMES } from './vmstat.js';
export type { VmstatName } from './vmstat.js';
export type { MmArgs } from './module.js';
export {
  LRU_LOCK_NAME,
  MEMCG_LEVELS_DEFAULT,
  memcgUsageLineName,
  mmLineLocks,
  mmLineNames,
  rssStatLineName,
  vmaLockLineName,
} from './lines.js';
export { mmap, munmap, GFP_TLB_BATCH } from './api.js';
export type { MmapOptions } from './api.js';
export {
  BUILTIN_POLICIES,
  classicFault,
  spfNowait,
  spfNowaitLiteral,
  spfNomemallocRetry,
  spfFallback,
  perVmaLock,
  machinePolicy,
  FAULT_OOM,
  FAULT_SEGV,
  FAULT_ENDS,
  GFP_PGTABLE_USER,
  GFP_DATA_PAGE,
  GFP_SPF_NOWAIT,
  GFP_SPF_NOMEMALLOC,
  REFAULT_NS,
} from './policies.js';
export type { FaultContext, FaultPolicy, FaultMachinePolicy } from './policies.js';
export {
  BUILTIN_MACHINES,
  FAULT_GUARDS,
  classicMachine,
  spfNowaitMachine,
  spfNowaitLiteralMachine,
  spfNomemallocRetryMachine,
  spfFallbackMachine,
  perVmaLockMachine,
} from './fault-machines.js';
export { FAULT_STEPS, TABLE_LEVELS } from './fault-steps.js';
export type { FaultRun } from './fault-steps.js';
export {
  LEVEL_PUD,
  LEVEL_PMD,
  LEVEL_PTE,
  LEVEL_PAGE,
  LEVEL_NAMES,
  pageTableKey,
  tableSlotsFor,
} from './page-table.js';
export { TASK_COUNTERS, MAX_TABLE_BATCH } from './layout.js';
