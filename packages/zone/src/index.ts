// @faultline/zone: a memory node of zones in SharedArrayBuffers, usable from many worker threads at once.
export { Zone } from './zone.js';
export type { ZoneDescriptor } from './zone.js';
export type { CompiledPlan } from './plan.js';
export type { ZoneCounts, PageHolding, PageInfo } from './zone-report.js';
export { MemoryNode } from './node.js';
export type { MemoryNodeOptions, NodeBootOptions, NodeDescriptor, NodePlan, NodeZoneSpec } from './node.js';
export { allocate, newAllocOutcome, ALLOC_FAILED, ALLOC_MAY_RECLAIM, ALLOC_DEFERRED } from './allocate.js';
export type { AllocOutcome } from './allocate.js';
export { STEP_FAST, STEP_SLOW, STEP_EMERGENCY, STEP_NAMES, ZONE_DEFERRED } from './steps.js';
export { resolveZoneConfig, ZONE_PAGES_MAX, ZONE_CPUS_MAX, ZONE_OWNERS_MAX, ZONE_OWNERS_DEFAULT } from './config.js';
export type { ZoneOptions, ZoneConfig } from './config.js';
export { ZoneConfigError, DoubleFreeError, BadFreeError } from './errors.js';
export { checkZoneInvariants, ZoneInvariantError } from './invariants.js';
export type { ZoneInventory } from './invariants.js';
export { ACCOUNT_COUNTERS, ACCT, emptyAccountRow, addAccountRows } from './counters.js';
export type { AccountCounter, AccountRow } from './counters.js';
export {
  PAGE_SIZE_BYTES,
  PAGE_SIZE_KIB,
  ZONE_TYPES,
  LOWMEM_RESERVE_RATIO,
  minFreeKbytes,
  zoneWatermarks,
  lowmemReserves,
  pcpBatch,
  pcpHigh,
  statThresholdNormal,
  statThresholdPressure,
} from './sizing.js';
export type { ZoneType } from './sizing.js';
export { bootNode, BOOT_MEMORY_MIB_MAX, BOOT_MEMORY_MIB_MIN, THP_MODES, VM_TUNABLES_DEFAULT } from './boot.js';
export type { BootNode, BootOptions, BootZone, ThpMode, VmTunables } from './boot.js';
export { captureSection, formatZoneinfo, parseZoneinfo } from './zoneinfo.js';
export type { ZoneinfoZone } from './zoneinfo.js';
