// plan: an allocation plan bound to one zone's watermarks and reserves: the integer lines each step checks, so the
// hot path compares numbers and allocates nothing. Recompiled when the zone's watermark version moves. A zone keeps
// its plans in a cache by mask, order and caller context (cachedPlan).
import {
  ALLOC_NO_WATERMARKS,
  mayUseHighatomic,
  parseGfp,
  planAllocation,
  watermarkLinePages,
  type AllocContext,
  type AllocPlan,
  type GfpMask,
  type KernelBehaviour,
  type Watermarks,
} from '@faultline/gfp';

/** A plan bound to this zone's watermarks: the lines each step checks, as integers, recomputed when they change. */
export interface CompiledPlan {
  readonly plan: AllocPlan;
  version: number;
  /** free - unusable must be above these; unusable = 2^order - 1, plus the highatomic reserve unless usable. */
  fastLine: number;
  fastHighatomic: boolean;
  slowLine: number;
  slowHighatomic: boolean;
  /** 0: no emergency access; 1: NO_WATERMARKS; 2: a checked line (ALLOC_OOM). */
  reserveKind: 0 | 1 | 2;
  reserveLine: number;
  reserveHighatomic: boolean;
}

export function compilePlan(cp: CompiledPlan, version: number, w: Watermarks, reserve: number): CompiledPlan {
  const { plan } = cp;
  const k = plan.kernel;
  cp.fastLine = watermarkLinePages(w.lowPages, plan.fastFlags, k, reserve);
  cp.fastHighatomic = mayUseHighatomic(plan.fastFlags, k);
  cp.slowLine = watermarkLinePages(w.minPages, plan.slowFlags, k, reserve);
  cp.slowHighatomic = mayUseHighatomic(plan.slowFlags, k);
  cp.reserveKind = plan.reserveFlags === 0 ? 0 : plan.reserveFlags & ALLOC_NO_WATERMARKS ? 1 : 2;
  cp.reserveLine = plan.reserveFlags === 0 ? 0 : watermarkLinePages(w.minPages, plan.reserveFlags, k, reserve);
  cp.reserveHighatomic = mayUseHighatomic(plan.reserveFlags, k);
  cp.version = version;
  return cp;
}

/** The plan in a zone's cache for this mask (a number, or text parsed for this kernel), order and caller context;
 * made and cached, unbound, on first use. */
export function cachedPlan(
  plans: Map<string, CompiledPlan>,
  mask: GfpMask | string,
  order: number,
  ctx: AllocContext,
  kernel: KernelBehaviour,
): CompiledPlan {
  const key = planKey(mask, order, ctx);
  let cp = plans.get(key);
  if (cp === undefined) {
    const m = typeof mask === 'string' ? parseGfp(mask, kernel).mask : mask;
    cp = unboundPlan(planAllocation(m, order, kernel, ctx));
    plans.set(key, cp);
  }
  return cp;
}

/** The key of a zone's cached plan: the mask as given, the order and the caller context's flags. */
function planKey(mask: GfpMask | string, order: number, ctx: AllocContext): string {
  const flags = `${ctx.realtime ? 1 : 0}${ctx.pfMemalloc ? 1 : 0}${ctx.oomVictim ? 1 : 0}${ctx.inInterrupt ? 1 : 0}`;
  return `${mask}/${order}/${flags}`;
}

/** A plan bound to no watermarks yet (version -1): its first compilePlan binds it. */
function unboundPlan(plan: AllocPlan): CompiledPlan {
  return {
    plan,
    version: -1,
    fastLine: 0,
    fastHighatomic: false,
    slowLine: 0,
    slowHighatomic: false,
    reserveKind: 0,
    reserveLine: 0,
    reserveHighatomic: false,
  };
}
