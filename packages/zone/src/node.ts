// node: one memory node (pg_data_t) of one or more zones, lowest first (DMA, DMA32, Normal). The node derives
// min_free_kbytes from its lowmem, gives each zone its share of the watermarks and its lowmem_reserve against
// allocations that could have used a higher zone, and allocates down the zonelist, highest zone first. Page frame
// numbers are node-wide: each zone owns a contiguous range starting where the previous one ended.
import { parseGfp, type AllocContext, type GfpMask, type KernelBehaviour } from '@faultline/gfp';
import { allocate, newAllocOutcome, type AllocOutcome } from './allocate.js';
import type { ZoneOptions } from './config.js';
import { addAccountRows, emptyAccountRow, type AccountRow } from './counters.js';
import { BadFreeError, ZoneConfigError } from './errors.js';
import { lowmemReserves, minFreeKbytes, ZONE_TYPES, type ZoneType } from './sizing.js';
import type { CompiledPlan } from './plan.js';
import { Zone, type ZoneDescriptor } from './zone.js';

export interface NodeZoneSpec {
  readonly type: ZoneType;
  readonly pages: number;
}

export interface MemoryNodeOptions extends Omit<ZoneOptions, 'pages' | 'type' | 'lowmemPages' | 'lowmemReservePages' | 'name'> {
  /** The zones, lowest first; at most one of each type. */
  readonly zones: readonly NodeZoneSpec[];
}

export interface NodeDescriptor {
  readonly zones: readonly ZoneDescriptor[];
}

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

  private constructor(zones: Zone[]) {
    this.zones = zones;
    this.zonelist = [...zones].reverse();
    let start = 0;
    this.startPfns = zones.map((z) => {
      const s = start;
      start += z.config.pages;
      return s;
    });
  }

  static create(o: MemoryNodeOptions): MemoryNode {
    if (!Array.isArray(o?.zones) || o.zones.length === 0) throw new ZoneConfigError('zones', `expected a list of zones, lowest first, e.g. [{ type: 'Normal', pages: 262144 }]; types: ${ZONE_TYPES.join(', ')}`);
    const order = o.zones.map((z) => ZONE_TYPES.indexOf(z.type));
    order.forEach((idx, i) => {
      if (idx < 0) throw new ZoneConfigError(`zones[${i}].type`, `'${o.zones[i]!.type}' is not a zone type; allowed: ${ZONE_TYPES.join(', ')}`);
      if (i > 0 && idx <= order[i - 1]!) throw new ZoneConfigError(`zones[${i}].type`, `zones must be listed lowest first with each type once (${ZONE_TYPES.join(' < ')})`);
    });
    const lowmemPages = o.zones.reduce((s, z) => s + z.pages, 0);
    const minFreeKb = o.minFreeKbytes ?? minFreeKbytes(lowmemPages);
    const reserves = lowmemReserves(o.zones);
    const top = o.zones.length - 1;
    const { zones: _specs, ...common } = o;
    return new MemoryNode(
      o.zones.map((spec, i) =>
        Zone.create({ ...common, type: spec.type, name: spec.type, pages: spec.pages, lowmemPages, minFreeKbytes: minFreeKb, lowmemReservePages: reserves[i]![top]! }),
      ),
    );
  }

  static attach(d: NodeDescriptor): MemoryNode {
    return new MemoryNode(d.zones.map((z) => Zone.attach(z)));
  }

  descriptor(): NodeDescriptor {
    return { zones: this.zones.map((z) => z.descriptor()) };
  }

  get kernel(): KernelBehaviour {
    return this.zones[0]!.config.kernel;
  }

  get pages(): number {
    return this.zones.reduce((s, z) => s + z.config.pages, 0);
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
    for (let i = this.zones.length - 1; i >= 0; i--) {
      if (pfn >= this.startPfns[i]!) {
        if (pfn - this.startPfns[i]! >= this.zones[i]!.config.pages) break;
        return { zone: i, pfn: pfn - this.startPfns[i]! };
      }
    }
    throw new BadFreeError(pfn, `outside the node (pfns 0 .. ${this.pages - 1})`);
  }

  free(cpu: number, pfn: number, reclaimer = -1): number {
    const at = this.locate(pfn);
    return this.zones[at.zone]!.free(cpu, at.pfn, reclaimer);
  }

  freePages(): number {
    return this.zones.reduce((s, z) => s + z.freePages(), 0);
  }

  drainCpu(cpu: number): number {
    return this.zones.reduce((s, z) => s + z.drainCpu(cpu), 0);
  }

  accountOf(owner: number): AccountRow {
    return this.zones.reduce((row, z) => addAccountRows(row, z.accountOf(owner)), emptyAccountRow());
  }
}
