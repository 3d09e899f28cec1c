// zone: one zone of a memory node, all of its state in one SharedArrayBuffer (struct zone): the buddy free area
// (buddy.ts), the watermarks (watermarks.ts), each CPU's page list (pcp.ts), NR_FREE_PAGES with per-CPU drift
// (vmstat.ts), the kswapd wake-up signal, and who holds which page with which mask (the owners' rows: counters.ts).
// A Zone object is a view: create() builds the buffer once, attach() opens it in another worker thread. This file
// owns the view and its API, the kswapd signal, one step of get_page_from_freelist (the watermark check, rmqueue,
// then the page's owner and mask and the owner's counters) and free's checks and accounting around free_unref_page
// or free_one_page; the grant's and the free's accounting stay inline here, on every allocation's path. Preconditions
// for sharing: each CPU number is driven by one thread at a time (its page list and vmstat delta are that thread's
// alone); everything else is safe from any thread.
import { __GFP_ACCOUNT, type AllocContext, type GfpMask, type Watermarks } from '@faultline/gfp';
import { allocate, newAllocOutcome, type AllocOutcome } from './allocate.js';
import { BuddyArea, freeOnePage, rmqueueBuddy } from './buddy.js';
import { resolveZoneConfig, zoneBuffer, type ZoneConfig, type ZoneOptions } from './config.js';
import {
  ACCT,
  accountIndex,
  initAccountRows,
  sumAccountCounter,
  sumAllAccountRows,
  sumAccountRows,
  type AccountRow,
} from './counters.js';
import { BadFreeError, ZoneConfigError, badFreeOf } from './errors.js';
import {
  H_KSWAPD_WAKE_SEQ,
  H_KSWAPD_WAKES,
  H_RECLAIM_ACTIVE,
  H_LOWMEM_RESERVE,
  H_NR_FREE_EXACT,
  H_NR_FREE_PAGES,
  H_RESERVED_HIGHATOMIC,
  H_STAT_THRESHOLD,
  H_WMARK_MIN,
  H_WMARK_VERSION,
  PAGE_RECORD_I32,
  PG_MASK,
  PG_OWNER,
  PG_STATE,
  cpuBase,
} from './layout.js';
import { PAGE_ALLOCATED, pageKind, pageOrder } from './page-state.js';
import {
  freePcppagesBulk,
  freeUnrefPage,
  pcpDrainsOf,
  pcpFreeFactorOf,
  pcpPages,
  pcpSetHighAndBatch,
  pcpTrim,
  rmqueuePcplist,
} from './pcp.js';
import { cachedPlan, compilePlan, type CompiledPlan } from './plan.js';
import { STEP_FAST, STEP_SLOW, ZONE_DEFERRED } from './steps.js';
import { foldZoneFreePages, setZoneStatThreshold, zoneFreePages, zoneFreePagesSnapshot } from './vmstat.js';
import { setZoneLowmemReserve, setZoneWatermarks, zoneLowmemReserveOf, zoneWatermarksOf } from './watermarks.js';
import { zoneLock, zoneUnlock } from './zone-lock.js';
import {
  zoneCounts,
  zoneHoldings,
  zoneEachAllocated,
  zonePageInfo,
  type PageHolding,
  type PageInfo,
  type ZoneCounts,
} from './zone-report.js';

export interface ZoneDescriptor {
  readonly sab: SharedArrayBuffer;
  readonly config: ZoneConfig;
}

export class Zone {
  readonly config: ZoneConfig;
  readonly a: Int32Array;
  readonly acct: Float64Array;
  private readonly buddy: BuddyArea;
  private readonly plans = new Map<string, CompiledPlan>();
  /** The last free count the last successful grant saw, for auditing. */
  lastFreeSeen = 0;
  /**
   * Defer shared work: when set, this view never takes the zone lock. An allocation that would need it (a pcp
   * refill, an order > 0 block) returns ALLOC_DEFERRED, and a free that overfills a pcp list leaves the drain to
   * trimCpu(). A deterministic engine sets it while CPUs run in parallel and clears it to apply the deferred work
   * in a fixed order.
   */
  deferShared = false;

  private constructor(
    readonly sab: SharedArrayBuffer,
    config: ZoneConfig,
  ) {
    this.config = config;
    this.a = new Int32Array(sab, 0, config.layout.int32Count);
    this.acct = new Float64Array(sab, config.layout.accountOffsetF64 * 8);
    this.buddy = new BuddyArea(this.a, config.layout);
  }

  static create(options: ZoneOptions): Zone {
    const config = resolveZoneConfig(options);
    const zone = new Zone(zoneBuffer(config), config);
    zone.init();
    return zone;
  }

  static attach(d: ZoneDescriptor): Zone {
    if (!(d?.sab instanceof SharedArrayBuffer) || d.sab.byteLength !== d.config?.layout?.byteLength) {
      throw new ZoneConfigError('descriptor', 'not a zone descriptor: expected { sab, config } from Zone.descriptor()');
    }
    return new Zone(d.sab, d.config);
  }

  descriptor(): ZoneDescriptor {
    return { sab: this.sab, config: this.config };
  }

  private init(): void {
    const { a, config } = this;
    this.buddy.init();
    Atomics.store(a, H_NR_FREE_PAGES, a[H_NR_FREE_EXACT]!);
    a[H_STAT_THRESHOLD] = config.statThreshold;
    a[H_RESERVED_HIGHATOMIC] = config.reservedHighatomicPages;
    this.setWatermarks(config.watermarks);
    a[H_LOWMEM_RESERVE] = config.lowmemReservePages;
    for (let cpu = 0; cpu < config.cpus; cpu++)
      pcpSetHighAndBatch(a, config.layout, cpu, config.pcpHigh, config.pcpBatch);
    initAccountRows(this.acct, config.layout.accountCpuStrideF64, config.cpus, config.owners);
  }

  // ---- watermarks and tunables ---------------------------------------------------------------------------------

  get watermarks(): Watermarks {
    return zoneWatermarksOf(this.a);
  }

  /** Change the watermarks (min_free_kbytes or watermark_scale_factor written); plans recompile on next use. */
  setWatermarks(w: Watermarks): void {
    setZoneWatermarks(this.a, w, this.config.pages);
  }

  get lowmemReservePages(): number {
    return zoneLowmemReserveOf(this.a);
  }

  setLowmemReservePages(pages: number): void {
    setZoneLowmemReserve(this.a, pages);
  }

  /** The vmstat fold threshold (smaller while kswapd runs, as calculate_pressure_threshold). */
  setStatThreshold(pages: number): void {
    setZoneStatThreshold(this.a, pages);
  }

  // ---- plans ---------------------------------------------------------------------------------------------------

  /** A plan for this mask (a number, or text such as "GFP_NOWAIT|__GFP_NOWARN"), order and caller context. */
  plan(mask: GfpMask | string, order = 0, ctx: AllocContext = {}): CompiledPlan {
    const cp = cachedPlan(this.plans, mask, order, ctx, this.config.kernel);
    this.compile(cp);
    return cp;
  }

  /** Bind a plan to the current watermarks; cheap when nothing changed. */
  compile(cp: CompiledPlan): CompiledPlan {
    const version = Atomics.load(this.a, H_WMARK_VERSION);
    return cp.version === version ? cp : compilePlan(cp, version, this.watermarks, this.lowmemReservePages);
  }

  // ---- counters (vmstat.ts, counters.ts) ------------------------------------------------------------------------

  /** zone_page_state(NR_FREE_PAGES): the global part only, may drift by up to threshold pages per CPU. */
  freePages(): number {
    return zoneFreePages(this.a);
  }

  /** zone_page_state_snapshot: the global part plus every CPU's unfolded delta. */
  freePagesSnapshot(): number {
    return zoneFreePagesSnapshot(this.a, this.config.layout);
  }

  /** Pages in the buddy lists, exactly (changed only under the lock, so an atomic read is exact). */
  freePagesExact(): number {
    return Atomics.load(this.a, H_NR_FREE_EXACT);
  }

  /** Add to an owner's counter on this CPU's row (no other thread writes that row). */
  account(cpu: number, owner: number, counter: number, value: number): void {
    this.acct[accountIndex(this.config.layout.accountCpuStrideF64, cpu, owner) + counter]! += value;
  }

  /** Pages charged to an owner's memcg now: __GFP_ACCOUNT pages granted minus those freed, over every CPU. Exact
   * between windows; during one, only this CPU's own changes are current. */
  chargedPages(owner: number): number {
    const row = this.accountOf(owner);
    return row.pagesCharged - row.pagesUncharged;
  }

  /** An owner's counters summed over CPUs. */
  accountOf(owner: number): AccountRow {
    return sumAccountRows(this.acct, this.config.layout.accountCpuStrideF64, this.config.cpus, owner);
  }

  /** Every owner's counters summed over CPUs (accountOf for each owner, in one pass). */
  accountRows(): AccountRow[] {
    const { layout, cpus, owners } = this.config;
    return sumAllAccountRows(this.acct, layout.accountCpuStrideF64, cpus, owners);
  }

  /** One counter (a sum, by its ACCT index) over every owner and CPU. */
  accountTotal(counter: number): number {
    const { layout, cpus, owners } = this.config;
    return sumAccountCounter(this.acct, layout.accountCpuStrideF64, cpus, owners, counter);
  }

  counts(): ZoneCounts {
    return zoneCounts(this);
  }

  /** Who holds allocated pages now, by owner and mask. */
  holdings(): PageHolding[] {
    return zoneHoldings(this);
  }

  /** Where a page is now: 'buddy', 'pcp', 'allocated' or 'tail', with its order, CPU, owner and mask. */
  pageInfo(pfn: number): PageInfo {
    return zonePageInfo(this, pfn);
  }

  eachAllocated(fn: (pfn: number, owner: number, mask: number) => void): void {
    zoneEachAllocated(this, fn);
  }

  // ---- kswapd signal -------------------------------------------------------------------------------------------

  kswapdWakeSeq(): number {
    return Atomics.load(this.a, H_KSWAPD_WAKE_SEQ);
  }

  /** wakeup_kswapd: bump the sequence and wake whoever waits on it. */
  wakeKswapd(): void {
    Atomics.add(this.a, H_KSWAPD_WAKE_SEQ, 1);
    Atomics.add(this.a, H_KSWAPD_WAKES, 1);
    Atomics.notify(this.a, H_KSWAPD_WAKE_SEQ);
  }

  /** Block until the sequence moves past `seen` or the timeout passes; returns the sequence now. */
  waitForKswapdWake(seen: number, timeoutMs: number): number {
    Atomics.wait(this.a, H_KSWAPD_WAKE_SEQ, seen, timeoutMs);
    return this.kswapdWakeSeq();
  }

  // ---- the grant steps -----------------------------------------------------------------------------------------

  checkCpu(cpu: number): void {
    if (!(cpu >= 0 && cpu < this.config.cpus && Number.isInteger(cpu)))
      throw new RangeError(`cpu: ${cpu}; allowed: integers 0 .. ${this.config.cpus - 1}`);
  }

  checkOwner(owner: number): void {
    if (!(owner >= 0 && owner < this.config.owners && Number.isInteger(owner)))
      throw new RangeError(`owner: ${owner}; allowed: integers 0 .. ${this.config.owners - 1}`);
  }

  /**
   * One step of get_page_from_freelist on this zone: check the step's line against the free count, and if it
   * passes take a block. Returns the pfn (zone-relative) or -1. The plan must be compiled for this zone.
   */
  tryStep(cpu: number, cp: CompiledPlan, step: number, owner: number): number {
    const a = this.a;
    const order = cp.plan.order;
    const free = this.freePages();
    const unusable = (1 << order) - 1;
    const highatomic = Atomics.load(a, H_RESERVED_HIGHATOMIC);
    let ok: boolean;
    if (step === STEP_FAST) ok = free - unusable - (cp.fastHighatomic ? 0 : highatomic) > cp.fastLine;
    else if (step === STEP_SLOW) ok = free - unusable - (cp.slowHighatomic ? 0 : highatomic) > cp.slowLine;
    else if (cp.reserveKind === 1) ok = true;
    else if (cp.reserveKind === 2) ok = free - unusable - (cp.reserveHighatomic ? 0 : highatomic) > cp.reserveLine;
    else ok = false;
    if (!ok) return -1;
    const L = this.config.layout;
    const pfn =
      order === 0
        ? rmqueuePcplist(a, L, this.buddy, cpu, this.deferShared)
        : this.deferShared
          ? ZONE_DEFERRED
          : rmqueueBuddy(a, L, this.buddy, cpu, order);
    if (pfn < 0) return pfn;
    // The grant's record and the owner's counters, inline: this is every allocation's path.
    a[L.pageOffset + pfn * PAGE_RECORD_I32 + PG_OWNER] = owner;
    a[L.pageOffset + pfn * PAGE_RECORD_I32 + PG_MASK] = cp.plan.mask;
    this.lastFreeSeen = free;
    const base = accountIndex(L.accountCpuStrideF64, cpu, owner);
    const f = this.acct;
    f[base + ACCT.pagesGranted]! += 1 << order;
    if ((cp.plan.mask & __GFP_ACCOUNT) !== 0) f[base + ACCT.pagesCharged]! += 1 << order;
    f[base + ACCT.grantsFast + step]! += 1;
    if (free <= Atomics.load(a, H_WMARK_MIN)) f[base + ACCT.pagesGrantedBelowMin]! += 1 << order;
    if (free < f[base + ACCT.minFreeSeenAtGrant]!) f[base + ACCT.minFreeSeenAtGrant] = free;
    return pfn;
  }

  /**
   * Allocate from this zone alone: fast path, kswapd wake-up, slow path, emergency access. Returns the pfn, or
   * ALLOC_FAILED (-1) or ALLOC_MAY_RECLAIM (-2); `out`, if given, receives the step and what the check saw.
   */
  alloc(cpu: number, cp: CompiledPlan, owner: number, out: AllocOutcome = this.outcome): number {
    this.zonelist[0] = cp;
    return allocate(this.self, this.zonelist, cpu, owner, out);
  }

  /** The outcome of this view's last alloc() when the caller passed none. */
  readonly outcome: AllocOutcome = newAllocOutcome();
  private readonly self: Zone[] = [this];
  private readonly zonelist: CompiledPlan[] = [];

  /** For order > 0 checks: is there a free block of at least this order (a racy read, as the kernel's)? */
  hasFreeBlock(order: number): boolean {
    return this.buddy.hasFreeBlock(order);
  }

  // ---- freeing -------------------------------------------------------------------------------------------------

  /**
   * Free the block whose first page is pfn. Order-0 pages go to this CPU's list (drained past pcpHigh); larger
   * blocks go back to the buddy lists. Detects double frees and frees of pages that are not allocated.
   * Credits pagesFreed to the page's owner, or pagesReclaimed to `reclaimer` when given. Returns the block's order,
   * or ZONE_DEFERRED while the view defers shared work and the free needs the zone lock (a block of order > 0, or
   * an order-0 page when the CPU's list is full): nothing changed yet, the caller applies it later.
   */
  free(cpu: number, pfn: number, reclaimer = -1): number {
    this.checkCpu(cpu);
    const a = this.a;
    const L = this.config.layout;
    if (!(Number.isInteger(pfn) && pfn >= 0 && pfn < L.pages))
      throw new BadFreeError(pfn, `outside zone ${this.config.name} (pfns 0 .. ${L.pages - 1})`);
    const word = Atomics.load(a, L.pageOffset + pfn * PAGE_RECORD_I32 + PG_STATE);
    if (pageKind(word) !== PAGE_ALLOCATED) throw badFreeOf(pfn, word, cpu);
    const order = pageOrder(word);
    const owner = a[L.pageOffset + pfn * PAGE_RECORD_I32 + PG_OWNER]!;
    const charged = (a[L.pageOffset + pfn * PAGE_RECORD_I32 + PG_MASK]! & __GFP_ACCOUNT) !== 0;
    if (order === 0) {
      // free_unref_page: to this CPU's list (pcp.ts).
      if (freeUnrefPage(a, L, this.buddy, cpu, pfn, word, this.deferShared) === ZONE_DEFERRED) return ZONE_DEFERRED;
    } else {
      // Checked and valid, but it needs the zone lock: the caller applies it later with deferShared cleared.
      if (this.deferShared) return ZONE_DEFERRED;
      freeOnePage(a, L, this.buddy, cpu, pfn, word, order);
    }
    if (reclaimer >= 0) this.account(cpu, reclaimer, ACCT.pagesReclaimed, 1 << order);
    if (owner >= 0 && owner < this.config.owners) {
      this.account(cpu, owner, ACCT.pagesFreed, 1 << order);
      if (charged) this.account(cpu, owner, ACCT.pagesUncharged, 1 << order);
    }
    return order;
  }

  /** The bulk frees that the frees of a window past nr_pcp_high left to do (each as free_unref_page_commit would
   * have done it, nr_pcp_free pages, doubling while no allocation intervenes); returns how many it did. */
  trimCpu(cpu: number): number {
    this.checkCpu(cpu);
    return pcpTrim(this.a, this.config.layout, this.buddy, cpu);
  }

  /** ZONE_RECLAIM_ACTIVE, set while kswapd runs balance_pgdat; only between windows. */
  setReclaimActive(active: boolean): void {
    Atomics.store(this.a, H_RECLAIM_ACTIVE, active ? 1 : 0);
  }

  reclaimActive(): boolean {
    return Atomics.load(this.a, H_RECLAIM_ACTIVE) !== 0;
  }

  /** drain_local_pages: return all of this CPU's list to the buddy lists. */
  drainCpu(cpu: number): number {
    this.checkCpu(cpu);
    return freePcppagesBulk(this.a, this.config.layout, this.buddy, cpu, this.config.layout.pcpCapacity);
  }

  /** Fold this CPU's vmstat delta into the global counter (refresh_cpu_vm_stats). */
  foldVmstat(cpu: number): void {
    this.checkCpu(cpu);
    foldZoneFreePages(this.a, this.config.layout, cpu);
  }

  // ---- inspection ----------------------------------------------------------------------------------------------

  freeLists(): number[][] {
    zoneLock(this.a);
    try {
      return this.buddy.freeLists();
    } finally {
      zoneUnlock(this.a);
    }
  }

  /** Bulk frees (free_pcppages_bulk) this CPU's list has done so far: each held the zone lock once. */
  pcpDrainsOf(cpu: number): number {
    this.checkCpu(cpu);
    return pcpDrainsOf(this.a, this.config.layout, cpu);
  }

  /** pcp->free_factor of this CPU's list (inspection). */
  pcpFreeFactor(cpu: number): number {
    this.checkCpu(cpu);
    return pcpFreeFactorOf(this.a, this.config.layout, cpu);
  }

  pcpList(cpu: number): number[] {
    this.checkCpu(cpu);
    return pcpPages(this.a, this.config.layout, cpuBase(this.config.layout, cpu));
  }
}
