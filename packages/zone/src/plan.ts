// plan: an allocation plan bound to one zone's watermarks and reserves: the integer lines each step checks, so the
// hot path compares numbers and allocates nothing. Recompiled when the zone's watermark version moves.
import {
  ALLOC_NO_WATERMARKS,
  mayUseHighatomic,
  watermarkLinePages,
  type AllocPlan,
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
