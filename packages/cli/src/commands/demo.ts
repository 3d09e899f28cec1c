// demo: the project's main job until the simulator exists: the GFP band table, then the zone allocator driven from
// N worker threads, with who got pages at which step and who was refused.
import { Worker } from 'node:worker_threads';
import { checkZoneInvariants, Zone } from '@faultline/zone';
import { DEMO_ROLES } from '../demo-roles.js';
import { renderGfpTable } from './gfp-table.js';
import { textTable } from '../text-table.js';

export interface DemoOptions {
  readonly cpus: number;
  readonly pages: number;
  readonly ops: number;
  readonly seed: string;
}

export interface DemoResult {
  readonly text: string;
  readonly grants: number[];
}

async function runWorkers(zone: Zone, o: DemoOptions): Promise<Array<{ cpu: number; held: number[] }>> {
  const url = new URL('../demo-worker.js', import.meta.url);
  const workers = Array.from(
    { length: o.cpus },
    (_, cpu) => new Worker(url, { workerData: { zone: zone.descriptor(), cpu, seed: o.seed, ops: o.ops } }),
  );
  try {
    return await Promise.all(
      workers.map(
        (w, cpu) =>
          new Promise<{ cpu: number; held: number[] }>((resolve, reject) => {
            w.once('message', resolve);
            w.once('error', (e) => reject(new Error(`demo worker for cpu ${cpu} failed: ${e.message}`)));
            w.once('exit', (code) =>
              reject(new Error(`demo worker for cpu ${cpu} exited with code ${code} before reporting`)),
            );
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const zone = Zone.create({ pages: o.pages, cpus: o.cpus, owners: DEMO_ROLES.length });
  const out: string[] = [];
  out.push(
    `faultline demo  seed=${o.seed}  cpus=${o.cpus}  zone=${o.pages} pages (${(o.pages * 4) / 1024} MiB)  kernel=${zone.config.kernel}`,
  );
  out.push('');
  out.push(renderGfpTable(zone.watermarks));
  out.push('');
  out.push(
    `The zone driven from ${o.cpus} worker threads, ${o.ops} operations each (allocations outnumber frees, so free memory`,
  );
  out.push(
    'falls through the watermarks; no reclaim yet, so a caller that may reclaim is counted as "would reclaim").',
  );
  out.push('Threads race for real here, so counts vary a little from run to run; the engine makes runs deterministic.');
  const results = await runWorkers(zone, o);
  const rows = DEMO_ROLES.map((role, owner) => {
    const r = zone.accountOf(owner);
    return [
      role.name,
      String(r.allocCalls),
      String(r.grantsFast),
      String(r.grantsSlow),
      String(r.grantsEmergency),
      String(r.pagesGrantedBelowMin),
      String(r.fails),
      String(r.reclaimVerdicts),
      Number.isFinite(r.minFreeSeenAtGrant) ? String(r.minFreeSeenAtGrant) : '-',
    ];
  });
  out.push('');
  for (const role of DEMO_ROLES) out.push(`  ${role.name.padEnd(24)} ${role.mask}`);
  out.push('');
  out.push(
    textTable(
      ['owner', 'calls', 'fast', 'slow', 'emergency', 'taken <= min', 'failed', 'would reclaim', 'lowest free seen'],
      rows,
    ),
  );
  const c = zone.counts();
  const inv = checkZoneInvariants(zone);
  out.push('');
  out.push(
    `zone: ${c.freePagesExact} free in the buddy lists, ${c.pcpPages} on per-CPU lists, ${inv.allocatedPages} allocated (${c.pages} in all; every page accounted for)`,
  );
  out.push(
    `      watermarks min ${c.watermarks.minPages} / low ${c.watermarks.lowPages} / high ${c.watermarks.highPages}; kswapd woken ${c.kswapdWakes} times; zone lock taken ${c.lockAcquires} times, ${c.lockContended} contended; ${c.pcpRefills} pcp refills, ${c.pcpDrains} drains`,
  );
  for (const r of results) for (const pfn of r.held) zone.free(r.cpu, pfn);
  for (let cpu = 0; cpu < o.cpus; cpu++) zone.drainCpu(cpu);
  const after = checkZoneInvariants(zone);
  out.push(`      after freeing everything: ${after.freePages} free, ${after.allocatedPages} allocated`);
  return { text: out.join('\n'), grants: DEMO_ROLES.map((_, owner) => zone.accountOf(owner).pagesGranted) };
}
