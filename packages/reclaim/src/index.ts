// @faultline/reclaim: the LRU, kswapd, direct reclaim and the OOM killer as a kernel module for the faultline engine.
export {
  RECLAIM,
  allocPages,
  reclaimPass,
  lruAdd,
  lruDel,
  kswapd,
  SWAP_CLUSTER_MAX,
  MAX_RECLAIM_RETRIES,
} from './api.js';
export { reclaimModulePath, RECLAIM_DEFAULTS } from './module.js';
export type { ReclaimOptions } from './module.js';
export type { ReclaimReport, TaskReclaim } from './report.js';
export { mergeEncoded } from './latency.js';
export { MEMCG_CHARGE_BATCH, highPenaltyNs } from './memcg.js';
export type { MemcgReport, MemcgSpec } from './memcg.js';
export { TimelineRecorder, TIMELINE_BUCKETS, WATERMARK_BANDS } from './timeline.js';
export type { FreePagesTimeline, WatermarkBand } from './timeline.js';
export type { LatencySummary } from './latency.js';
export { LRU_KINDS } from './layout.js';
export type { LruKind } from './layout.js';

import { fileURLToPath } from 'node:url';
/** The module path to run kswapd from: `{ module: kswapdTaskPath, export: 'kswapd', cpus: [0] }`. */
export const kswapdTaskPath = fileURLToPath(new URL('./api.js', import.meta.url));
export { reclaimVmstat, RECLAIM_VMSTAT_NAMES } from './vmstat.js';
export type { ReclaimVmstatName } from './vmstat.js';
