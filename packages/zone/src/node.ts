// node: one memory node (pg_data_t) of one or more zones, lowest first (DMA, DMA32, Normal), and the whole page
// allocator a run uses. create() derives min_free_kbytes from the node's lowmem and gives each zone its share of the
// watermarks and its lowmem_reserve; boot() builds the node the kernel builds for a machine size (boot.ts). It
// allocates down the zonelist, highest zone first (get_page_from_freelist), frees to the zone a page belongs to, and
// answers the node-wide questions reclaim asks (pgdat_balanced, should_reclaim_retry's per-zone test). Page frame
// numbers are node-wide: each zone owns a contiguous range starting where the previous one ended (the kernel's
// holes and the unmanaged pages are left out). The model has no zone modifiers (__GFP_DMA, __GFP_DMA32,
// __GFP_HIGHMEM, __GFP_MOVABLE): every allocation may use every zone, and each zone keeps from it the reserve
// against the highest class (lowmem_reserve[ZONE_NORMAL]).
import { parseGfp, type AllocContext, type GfpMask, type KernelBehaviour, type Watermarks } from '@faultline/gfp';
import { allocate, newAllocOutcome, type AllocOutcome } from './allocate.js';
import { bootNode, type BootNode, type BootOptions } from './boot.js';
import type { ZoneOptions } from './config.js';
import { addAccountRows, emptyAccountRow, type AccountRow } from './counters.js';
import { BadFreeError, ZoneConfigError } from './errors.js';
import type { CompiledPlan } from './plan.js';
import { lowmemReserves, minFreeKbytes, ZONE_TYPES, type ZoneType } from './sizing.js';
import { Zone, type ZoneDescriptor } from './zone.js';
import type { PageInfo, ZoneCounts } from './zone-report.js';

export interface NodeZoneSpec {
  readonly type: ZoneType;
  readonly pages: number;
}

export interface MemoryNodeOptions
  extends Omit<ZoneOptions, 'pages' | 'type' | 'lowmemPages' | 'lowmemReservePages' | 'name'> {
  /** The zones, lowest first; at most one of each type. */
  readonly zones: readonly NodeZoneSpec[];
}

export interface NodeBootOptions extends BootOptions {
  readonly kernel?: KernelBehaviour;
  readonly owners?: number;
}

export interface NodeDescriptor {
  readonly zones: readonly ZoneDescriptor[];
  /** The boot-time node it was built from, when boot() built it. */
  readonly boot: BootNode | null;
}

/** The index of ZONE_NORMAL in a zone's protection array: the class of every modelled allocation. */
const NORMAL_CLASS = ZONE_TYPES.indexOf('Normal');

/** A plan compiled for each zone of the zonelist. */
export interface NodePlan {
  readonly mask: GfpMask;
  readonly order: number;
  readonly perZone: CompiledPlan[];
}

export class MemoryNode {
  /** Lowest zone first. */
  readonly zones: readonly Zone[];
  /** Highest zone first: the order allocations try them. */
  readonly zonelist: readonly Zone[];
  readonly startPfns: readonly number[];
  readonly outcome: AllocOutcome = newAllocOutcome();
  private readonly plans = new Map<string, NodePlan>();
  /** The boot-time node it was built from, or null (create()). */
  readonly boot: BootNode | null;

  private constructor(zones: Zone[], boot: BootNode | null) {
    this.zones = zones;
    this.boot = boot;
    this.zonelist = [...zones].reverse();
    let start = 0;
    this.startPfns = zones.map((z) => {
      const s = start;
      start += z.config.pages;
      return s;
    });
  }

  static create(o: MemoryNodeOptions): MemoryNode {
    if (!Array.isArray(o?.zones) || o.zones.length === 0)
      throw new ZoneConfigError(
        'zones',
        `expected a list of zones, lowest first, e.g. [{ type: 'Normal', pages: 262144 }]; types: ${ZONE_TYPES.join(', ')}`,
      );
    const order = o.zones.map((z) => ZONE_TYPES.indexOf(z.type));
    order.forEach((idx, i) => {
      if (idx < 0)
        throw new ZoneConfigError(
          `zones[${i}].type`,
          `'${o.zones[i]!.type}' is not a zone type; allowed: ${ZONE_TYPES.join(', ')}`,
        );
      if (i > 0 && idx <= order[i - 1]!)
        throw new ZoneConfigError(
          `zones[${i}].type`,
          `zones must be listed lowest first with each type once (${ZONE_TYPES.join(' < ')})`,
        );
    });
    const lowmemPages = o.zones.reduce((s, z) => s + z.pages, 0);
    const minFreeKb = o.minFreeKbytes ?? minFreeKbytes(lowmemPages);
    const reserves = lowmemReserves(o.zones);
    const top = o.zones.length - 1;
    const { zones: _specs, ...common } = o;
    return new MemoryNode(
      o.zones.map((spec, i) =>
        Zone.create({
          ...common,
          type: spec.type,
          name: spec.type,
          pages: spec.pages,
          lowmemPages,
          minFreeKbytes: minFreeKb,
          lowmemReservePages: reserves[i]![top]!,
        }),
      ),
      null,
    );
  }

  /** The node the kernel builds at boot for a machine of this size and CPU count (boot.ts): its zones' managed
   * pages, watermarks, protection against the highest class, per-CPU list high and batch, and vmstat thresholds. */
  static boot(o: NodeBootOptions): MemoryNode {
    const { kernel, owners, ...bootOptions } = o;
    const b = bootNode(bootOptions);
    const lowmemPages = b.zones.reduce((s, z) => s + z.managed, 0);
    const zones = b.zones.map((z) =>
      Zone.create({
        type: z.type,
        name: z.type,
        pages: z.managed,
        cpus: b.cpus,
        lowmemPages,
        minFreeKbytes: b.minFreeKbytes,
        watermarkScaleFactor: b.tunables.watermarkScaleFactor,
        watermarks: { minPages: z.minPages, lowPages: z.lowPages, highPages: z.highPages },
        lowmemReservePages: z.protection[NORMAL_CLASS]!,
        pcpBatch: z.pcpBatch,
        pcpHigh: z.pcpHigh,
        statThreshold: z.statThreshold,
        ...(kernel ? { kernel } : {}),
        ...(owners !== undefined ? { owners } : {}),
      }),
    );
    return new MemoryNode(zones, b);
  }

  static attach(d: NodeDescriptor): MemoryNode {
    return new MemoryNode(
      d.zones.map((z) => Zone.attach(z)),
      d.boot,
    );
  }

  descriptor(): NodeDescriptor {
    return { zones: this.zones.map((z) => z.descriptor()), boot: this.boot };
  }

  get kernel(): KernelBehaviour {
    return this.zones[0]!.config.kernel;
  }

  /** Managed pages of every zone. */
  get pages(): number {
    return this.startPfns[this.zones.length - 1]! + this.zones[this.zones.length - 1]!.config.pages;
  }

  get cpus(): number {
    return this.zones[0]!.config.cpus;
  }

  get owners(): number {
    return this.zones[0]!.config.owners;
  }

  /** The zones' deferred mode (Zone.deferShared), set on every zone at once. */
  get deferShared(): boolean {
    return this.zones[0]!.deferShared;
  }

  set deferShared(on: boolean) {
    for (const z of this.zones) z.deferShared = on;
  }

  /** Run `fn` holding the zone lock's paths for itself (deferShared off: what needs the zone lock is done at once,
   * as nothing else runs - setup before the first window, a commit between windows), then restore the mode. */
  exclusive<T>(fn: () => T, exclusive = true): T {
    const was = this.deferShared;
    this.deferShared = !exclusive;
    try {
      return fn();
    } finally {
      this.deferShared = was;
    }
  }

  plan(mask: GfpMask | string, order = 0, ctx: AllocContext = {}): NodePlan {
    const m = typeof mask === 'string' ? parseGfp(mask, this.kernel).mask : mask;
    const key = `${m}/${order}/${JSON.stringify(ctx)}`;
    let p = this.plans.get(key);
    if (p === undefined) {
      p = { mask: m, order, perZone: this.zonelist.map((z) => z.plan(m, order, ctx)) };
      this.plans.set(key, p);
    }
    return p;
  }

  /** Allocate; returns a node-wide pfn, or ALLOC_FAILED (-1) / ALLOC_MAY_RECLAIM (-2). */
  alloc(cpu: number, plan: NodePlan, owner: number, out: AllocOutcome = this.outcome): number {
    const pfn = allocate(this.zonelist, plan.perZone, cpu, owner, out);
    if (pfn < 0) return pfn;
    return this.startPfns[this.zones.length - 1 - out.zone]! + pfn;
  }

  /** The zone index (lowest first) and zone-relative pfn of a node-wide pfn. */
  locate(pfn: number): { zone: number; pfn: number } {
    const i = this.zoneAt(pfn);
    if (i < 0) throw new BadFreeError(pfn, `outside the node (pfns 0 .. ${this.pages - 1})`);
    return { zone: i, pfn: pfn - this.startPfns[i]! };
  }

  /** The zone (index, lowest first) that owns a node-wide pfn (locate's answer without its object: the LRU asks it
   * for every page it takes). */
  zoneIndexOf(pfn: number): number {
    const i = this.zoneAt(pfn);
    return i >= 0 ? i : this.locate(pfn).zone; // throws: outside the node
  }

  /** The index of the zone holding a node-wide pfn, or -1 when no zone does. */
  private zoneAt(pfn: number): number {
    const starts = this.startPfns;
    for (let i = starts.length - 1; i >= 0; i--) {
      if (pfn >= starts[i]!) return pfn - starts[i]! < this.zones[i]!.config.pages ? i : -1;
    }
    return -1;
  }

  free(cpu: number, pfn: number, reclaimer = -1): number {
    if (!Number.isInteger(pfn)) throw new BadFreeError(pfn, 'not an integer page frame number');
    const at = this.locate(pfn);
    return this.zones[at.zone]!.free(cpu, at.pfn, reclaimer);
  }

  /** NR_FREE_PAGES summed over the zones (each may drift by its threshold per CPU). */
  freePages(): number {
    let s = 0;
    for (const z of this.zones) s += z.freePages();
    return s;
  }

  freePagesSnapshot(): number {
    let s = 0;
    for (const z of this.zones) s += z.freePagesSnapshot();
    return s;
  }

  /** The zones' watermarks summed: a node-wide line for charts and time-below-min; no kernel check uses it. */
  get watermarks(): Watermarks {
    const w = { minPages: 0, lowPages: 0, highPages: 0 };
    for (const z of this.zones) {
      const zw = z.watermarks;
      w.minPages += zw.minPages;
      w.lowPages += zw.lowPages;
      w.highPages += zw.highPages;
    }
    return w;
  }

  /** Free pages a Normal-class allocation could use: each zone's free count above its reserve, summed (the free
   * line of a node's chart; DMA's lowmem reserve is free memory no such allocation gets). */
  usableFreePages(): number {
    let s = 0;
    for (const z of this.zones) s += Math.max(0, z.freePages() - z.lowmemReservePages);
    return s;
  }

  /**
   * The node's watermark band for an order-0 Normal-class allocation, as the allocator sees it: 0 when no zone
   * passes its min line (direct reclaim), 1 when some passes min but none low (kswapd woken), 2 when some passes
   * low but none high (kswapd still owed work), 3 when some passes high (pgdat_balanced). Each line is the zone's
   * watermark plus its reserve, passed strictly (__zone_watermark_ok).
   */
  watermarkBand(): 0 | 1 | 2 | 3 {
    let band: 0 | 1 | 2 | 3 = 0;
    for (const z of this.zones) {
      const f = z.freePages() - z.lowmemReservePages;
      const w = z.watermarks;
      const b = f > w.highPages ? 3 : f > w.lowPages ? 2 : f > w.minPages ? 1 : 0;
      if (b > band) band = b;
    }
    return band;
  }

  /**
   * pgdat_balanced (mm/vmscan.c): the node is balanced when any zone is, each tested as zone_watermark_ok_safe at
   * the high watermark plus its reserve against the highest class. A small zone can balance the node alone.
   */
  balanced(order = 0): boolean {
    for (const z of this.zones) {
      if (z.freePages() - ((1 << order) - 1) > z.watermarks.highPages + z.lowmemReservePages) return true;
    }
    return false;
  }

  /**
   * should_reclaim_retry's per-zone test (mm/page_alloc.c): would some zone pass its min watermark (plus reserve)
   * if every reclaimable page were freed? `reclaimable(i)`: zone i's reclaimable pages (zone_reclaimable_pages).
   */
  couldPassMin(order: number, reclaimable: (zone: number) => number): boolean {
    for (let i = 0; i < this.zones.length; i++) {
      const z = this.zones[i]!;
      const available = z.freePagesSnapshot() + reclaimable(i);
      if (available - ((1 << order) - 1) > z.watermarks.minPages + z.lowmemReservePages) return true;
    }
    return false;
  }

  drainCpu(cpu: number): number {
    let s = 0;
    for (const z of this.zones) s += z.drainCpu(cpu);
    return s;
  }

  /** The bulk frees a window's frees left to do on this CPU's lists, over every zone (Zone.trimCpu). */
  trimCpu(cpu: number): number {
    let s = 0;
    for (const z of this.zones) s += z.trimCpu(cpu);
    return s;
  }

  pcpDrainsOf(cpu: number): number {
    let s = 0;
    for (const z of this.zones) s += z.pcpDrainsOf(cpu);
    return s;
  }

  /** ZONE_RECLAIM_ACTIVE on every zone (balance_pgdat marks the zones up to the highest class). */
  setReclaimActive(active: boolean): void {
    for (const z of this.zones) z.setReclaimActive(active);
  }

  /** Every wake-up bumps every zone's sequence together; the highest zone's stands for the node's. */
  kswapdWakeSeq(): number {
    return this.zonelist[0]!.kswapdWakeSeq();
  }

  accountOf(owner: number): AccountRow {
    return this.zones.reduce((row, z) => addAccountRows(row, z.accountOf(owner)), emptyAccountRow());
  }

  /** accountOf for every owner, in owner order (one pass over each zone's counters). */
  accountRows(): AccountRow[] {
    const per = this.zones.map((z) => z.accountRows());
    return Array.from({ length: this.owners }, (_, o) =>
      per.reduce((row, rows) => addAccountRows(row, rows[o]!), emptyAccountRow()),
    );
  }

  chargedPages(owner: number): number {
    let s = 0;
    for (const z of this.zones) s += z.chargedPages(owner);
    return s;
  }

  pageInfo(pfn: number): PageInfo {
    const at = this.locate(pfn);
    return this.zones[at.zone]!.pageInfo(at.pfn);
  }

  /** Every allocated page, in node-wide pfn order: fn(pfn, owner, mask), with no record built per page. */
  eachAllocated(fn: (pfn: number, owner: number, mask: number) => void): void {
    this.zones.forEach((z, i) => {
      const start = this.startPfns[i]!;
      z.eachAllocated((pfn, owner, mask) => fn(start + pfn, owner, mask));
    });
  }

  /** Each zone's counters, lowest first. */
  zoneCounts(): ZoneCounts[] {
    return this.zones.map((z) => z.counts());
  }

  /** The node's totals in a zone's shape: pages, free counts, free blocks per order and watermarks summed; kswapd
   * wake-ups counted once (each bumps every zone). */
  counts(): ZoneCounts {
    const per = this.zoneCounts();
    const sum = (f: (c: ZoneCounts) => number): number => per.reduce((s, c) => s + f(c), 0);
    return {
      name: 'node',
      pages: sum((c) => c.pages),
      freePages: sum((c) => c.freePages),
      freePagesSnapshot: sum((c) => c.freePagesSnapshot),
      freePagesExact: sum((c) => c.freePagesExact),
      pcpPages: sum((c) => c.pcpPages),
      nrFree: per[0]!.nrFree.map((_, o) => sum((c) => c.nrFree[o]!)),
      watermarks: this.watermarks,
      kswapdWakes: Math.max(...per.map((c) => c.kswapdWakes)),
      lockAcquires: sum((c) => c.lockAcquires),
      lockContended: sum((c) => c.lockContended),
      pcpRefills: sum((c) => c.pcpRefills),
      pcpDrains: sum((c) => c.pcpDrains),
      pagesGranted: sum((c) => c.pagesGranted),
      pagesFreed: sum((c) => c.pagesFreed),
    };
  }
}
