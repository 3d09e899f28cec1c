// allocate: __alloc_pages over a zonelist, up to where direct reclaim would start. Each step (fast at LOW, slow at
// MIN with the caller's reserve access, emergency) is tried on every zone of the zonelist in order before the next
// step, as get_page_from_freelist does; kswapd is woken between the fast and the slow step. The result says whether
// the caller got a page, must fail, or may reclaim and retry (the reclaim package's business).
import { ALLOC_STEPS, type AllocStep } from '@faultline/gfp';
import { ACCT } from './counters.js';
import { STEP_EMERGENCY, STEP_FAST, STEP_SLOW, ZONE_DEFERRED } from './steps.js';
import type { CompiledPlan } from './plan.js';
import type { Zone } from './zone.js';

export const ALLOC_FAILED = -1;
export const ALLOC_MAY_RECLAIM = -2;
/** The allocation needs the zone lock and the view defers shared work: apply it later, in order. */
export const ALLOC_DEFERRED = ZONE_DEFERRED;

/** Filled in by allocate() for the caller that wants more than the pfn; reused, so it allocates nothing. */
export interface AllocOutcome {
  /** Index into the zonelist of the zone that granted, or -1. */
  zone: number;
  /** Zone-relative pfn, or ALLOC_FAILED / ALLOC_MAY_RECLAIM. */
  pfn: number;
  step: AllocStep | null;
  /** The free count the granting check saw. */
  freeSeen: number;
  kswapdWoken: boolean;
  /** A failure the kernel would report (no __GFP_NOWARN). */
  warnFailure: boolean;
}

export function newAllocOutcome(): AllocOutcome {
  return { zone: -1, pfn: ALLOC_FAILED, step: null, freeSeen: 0, kswapdWoken: false, warnFailure: false };
}

/**
 * Allocate a block for `owner` on `cpu` from the zonelist (highest zone first). `plans[i]` is the plan compiled for
 * `zones[i]`. Returns the zone-relative pfn, ALLOC_FAILED, or ALLOC_MAY_RECLAIM; details go to `out`.
 */
export function allocate(
  zones: readonly Zone[],
  plans: readonly CompiledPlan[],
  cpu: number,
  owner: number,
  out: AllocOutcome = newAllocOutcome(),
): number {
  const first = zones[0]!;
  first.checkCpu(cpu);
  first.checkOwner(owner);
  out.kswapdWoken = false;
  out.warnFailure = false;
  for (let i = 0; i < zones.length; i++) {
    const pfn = zones[i]!.tryStep(cpu, zones[i]!.compile(plans[i]!), STEP_FAST, owner);
    if (pfn >= 0) return granted(zones, i, pfn, STEP_FAST, cpu, owner, out);
    if (pfn === ZONE_DEFERRED) return deferred(out);
  }
  const plan = plans[0]!.plan;
  if (plan.wakesKswapd) {
    for (const z of zones) z.wakeKswapd();
    first.account(cpu, owner, ACCT.kswapdWakes, 1);
    out.kswapdWoken = true;
  }
  for (let step = STEP_SLOW; step <= STEP_EMERGENCY; step++) {
    if (step === STEP_EMERGENCY && plans[0]!.reserveKind === 0) break;
    for (let i = 0; i < zones.length; i++) {
      const pfn = zones[i]!.tryStep(cpu, plans[i]!, step, owner);
      if (pfn >= 0) return granted(zones, i, pfn, step, cpu, owner, out);
      if (pfn === ZONE_DEFERRED) return deferred(out);
    }
  }
  out.zone = -1;
  out.step = null;
  first.account(cpu, owner, ACCT.allocCalls, 1);
  if (!plan.canDirectReclaim || plan.ctx.pfMemalloc) {
    first.account(cpu, owner, ACCT.fails, 1);
    out.warnFailure = !plan.nowarn;
    out.pfn = ALLOC_FAILED;
    return ALLOC_FAILED;
  }
  first.account(cpu, owner, ACCT.reclaimVerdicts, 1);
  out.pfn = ALLOC_MAY_RECLAIM;
  return ALLOC_MAY_RECLAIM;
}

function deferred(out: AllocOutcome): number {
  out.zone = -1;
  out.step = null;
  out.pfn = ZONE_DEFERRED;
  return ZONE_DEFERRED;
}

function granted(
  zones: readonly Zone[],
  i: number,
  pfn: number,
  step: number,
  cpu: number,
  owner: number,
  out: AllocOutcome,
): number {
  // Calls are counted where they end (granted, failed, may reclaim), so a deferred call retried later counts once.
  zones[0]!.account(cpu, owner, ACCT.allocCalls, 1);
  out.zone = i;
  out.pfn = pfn;
  out.step = ALLOC_STEPS[step]!;
  out.freeSeen = zones[i]!.lastFreeSeen;
  return pfn;
}
