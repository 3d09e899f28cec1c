// Several worker threads hammer one zone with random masks and orders, freeing their own pages and pages other
// CPUs hand them. At the end every page is accounted for, none was handed out twice (a shared claim map checks each
// grant as it happens), and no __GFP_NOMEMALLOC caller got a page when the free count it saw was at or below its
// reserve line (written out by hand below, not computed by the zone).
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { checkZoneInvariants, Zone } from '@faultline/zone';

const MASKS = [
  'GFP_KERNEL',
  'GFP_NOWAIT',
  'GFP_NOWAIT|__GFP_NOMEMALLOC|__GFP_NOWARN',
  'GFP_ATOMIC',
  'GFP_KERNEL|__GFP_NOMEMALLOC',
  'GFP_ATOMIC|__GFP_NOMEMALLOC',
  'GFP_NOWAIT|__GFP_MEMALLOC',
];
const PAGES = 6000;
const W = { minPages: 800, lowPages: 1000, highPages: 1200 };
// Reserve lines (v6.3+): __GFP_NOMEMALLOC takes away ALLOC_NON_BLOCK and emergency access, so a mask without
// __GFP_HIGH stops at min and GFP_ATOMIC|__GFP_NOMEMALLOC at min/2 (ALLOC_MIN_RESERVE alone).
const NOMEMALLOC_LINES: Record<string, number> = {
  'GFP_NOWAIT|__GFP_NOMEMALLOC|__GFP_NOWARN': 800,
  'GFP_KERNEL|__GFP_NOMEMALLOC': 800,
  'GFP_ATOMIC|__GFP_NOMEMALLOC': 400,
};

interface Result {
  cpu: number;
  held: number[];
  minFreeSeen: number[];
  grants: number[];
}

function runHammer(cpus: number, seed: string, ops: number): Promise<{ zone: Zone; results: Result[] }> {
  const zone = Zone.create({
    pages: PAGES,
    cpus,
    owners: MASKS.length,
    kernel: 'v6.3+',
    watermarks: W,
    pcpBatch: 15,
    pcpHigh: 60,
    statThreshold: 8,
  });
  const handoffSlots = 256;
  const shared = {
    claims: new SharedArrayBuffer(PAGES * 4),
    handoff: new SharedArrayBuffer(cpus * cpus * (2 + handoffSlots) * 4),
    start: new SharedArrayBuffer(16),
  };
  const go = new Int32Array(shared.start);
  const url = new URL('./workers/zone-hammer.mjs', import.meta.url);
  const workers = Array.from(
    { length: cpus },
    (_, cpu) =>
      new Worker(url, {
        workerData: { zone: zone.descriptor(), cpu, cpus, seed, ops, masks: MASKS, handoffSlots, ...shared },
      }),
  );
  const done = workers.map(
    (w) =>
      new Promise<Result>((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
        w.once('exit', (code) => reject(new Error(`worker exited with code ${code} before reporting`)));
      }),
  );
  const started = (async () => {
    while (Atomics.load(go, 1) < cpus) await new Promise((r) => setImmediate(r));
    Atomics.store(go, 0, 1);
    Atomics.notify(go, 0);
  })();
  return started
    .then(() => Promise.all(done))
    .then((results) => ({ zone, results }))
    .finally(() => Promise.all(workers.map((w) => w.terminate())));
}

describe('a zone shared by worker threads', () => {
  it('accounts for every page, hands none out twice, and keeps __GFP_NOMEMALLOC callers above their line', async () => {
    const cpus = 4;
    const { zone, results } = await runHammer(cpus, 'hammer-1', 60_000);
    const all = results.flatMap((r) => r.held);
    expect(new Set(all).size).toBe(all.length);
    // Free what is held, drain every CPU's list: the zone must be whole again.
    const cpuOf = new Map(results.flatMap((r) => r.held.map((p) => [p, r.cpu] as const)));
    const before = checkZoneInvariants(zone);
    const heldPages = all.reduce((s, p) => s + (1 << zone.pageInfo(p).order), 0);
    expect(before.allocatedPages).toBe(heldPages);
    for (const p of all) zone.free(cpuOf.get(p)!, p);
    for (let cpu = 0; cpu < cpus; cpu++) zone.drainCpu(cpu);
    expect(checkZoneInvariants(zone)).toEqual({ freePages: PAGES, pcpPages: 0, allocatedPages: 0 });

    const grants = MASKS.map((_, m) => results.reduce((s, r) => s + r.grants[m]!, 0));
    expect(grants.every((g) => g > 0)).toBe(true);
    for (const [mask, line] of Object.entries(NOMEMALLOC_LINES)) {
      const m = MASKS.indexOf(mask);
      const seen = Math.min(...results.map((r) => r.minFreeSeen[m]!));
      expect(seen, mask).toBeGreaterThan(line);
    }
    // The run really went below min (emergency callers took pages there), so the lines above were tested.
    const memalloc = MASKS.indexOf('GFP_NOWAIT|__GFP_MEMALLOC');
    expect(Math.min(...results.map((r) => r.minFreeSeen[memalloc]!))).toBeLessThan(W.minPages);
    const counts = zone.counts();
    expect(counts.lockAcquires).toBeGreaterThan(0);
    expect(counts.kswapdWakes).toBeGreaterThan(0);
  });
});
