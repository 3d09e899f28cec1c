// vmstat: the zone's NR_FREE_PAGES as mm/vmstat.c keeps it: a global part (zone->vm_stat) that every allocation
// reads, and each CPU's unfolded delta (vm_stat_diff) in that CPU's own block, folded into the global part once it
// passes the stat threshold, so the global part drifts by up to threshold pages per CPU. A CPU's delta is written
// only by the thread that runs the CPU; the global part is changed atomically, from any thread. The threshold
// itself is a header word, set at creation and while kswapd runs (setZoneStatThreshold).
import { checkStatThreshold } from './config.js';
import { CPU_FREE_DELTA, H_NR_FREE_PAGES, H_STAT_THRESHOLD, cpuBase, type ZoneLayout } from './layout.js';

/** zone_page_state(NR_FREE_PAGES): the global part only, never below 0. */
export function zoneFreePages(a: Int32Array): number {
  const v = Atomics.load(a, H_NR_FREE_PAGES);
  return v < 0 ? 0 : v;
}

/** zone_page_state_snapshot: the global part plus every CPU's unfolded delta. */
export function zoneFreePagesSnapshot(a: Int32Array, L: ZoneLayout): number {
  let v = Atomics.load(a, H_NR_FREE_PAGES);
  for (let cpu = 0; cpu < L.cpus; cpu++) v += Atomics.load(a, cpuBase(L, cpu) + CPU_FREE_DELTA);
  return v < 0 ? 0 : v;
}

/** __mod_zone_page_state: add to this CPU's delta; fold it into the global counter past the threshold. A negative
 * cpu changes the global part directly. */
export function modZoneFreePages(a: Int32Array, L: ZoneLayout, cpu: number, delta: number): void {
  if (cpu < 0) {
    Atomics.add(a, H_NR_FREE_PAGES, delta);
    return;
  }
  const i = cpuBase(L, cpu) + CPU_FREE_DELTA;
  let d = a[i]! + delta;
  const t = a[H_STAT_THRESHOLD]!;
  if (d > t || d < -t) {
    Atomics.add(a, H_NR_FREE_PAGES, d);
    d = 0;
  }
  Atomics.store(a, i, d);
}

/** refresh_cpu_vm_stats: fold this CPU's delta into the global part. */
export function foldZoneFreePages(a: Int32Array, L: ZoneLayout, cpu: number): void {
  const d = Atomics.exchange(a, cpuBase(L, cpu) + CPU_FREE_DELTA, 0);
  if (d !== 0) Atomics.add(a, H_NR_FREE_PAGES, d);
}

/** Set the stat threshold (calculate_pressure_threshold's while kswapd runs, else calculate_normal_threshold's). */
export function setZoneStatThreshold(a: Int32Array, pages: number): void {
  checkStatThreshold(pages);
  Atomics.store(a, H_STAT_THRESHOLD, pages);
}
