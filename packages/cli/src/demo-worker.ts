// demo-worker: one simulated CPU of the threaded demo. It allocates for the demo's roles in a seeded random mix and
// frees a random held page a little less often than it allocates, so the zone is driven down into the watermarks.
import { parentPort, workerData } from 'node:worker_threads';
import seedrandom from 'seedrandom';
import { Zone, type ZoneDescriptor } from '@faultline/zone';
import { DEMO_ROLES } from './demo-roles.js';

interface DemoWorkerData {
  readonly zone: ZoneDescriptor;
  readonly cpu: number;
  readonly seed: string;
  readonly ops: number;
}

const { zone: desc, cpu, seed, ops } = workerData as DemoWorkerData;
const zone = Zone.attach(desc);
const rng = seedrandom.alea(`${seed}/demo/cpu${cpu}`);
const plans = DEMO_ROLES.map((r) => zone.plan(r.mask));
const totalWeight = DEMO_ROLES.reduce((s, r) => s + r.weight, 0);
const held: number[] = [];

for (let i = 0; i < ops; i++) {
  if (held.length > 0 && rng() < 0.45) {
    const k = Math.floor(rng() * held.length);
    zone.free(cpu, held[k]!);
    held[k] = held[held.length - 1]!;
    held.pop();
    continue;
  }
  let pick = rng() * totalWeight;
  let role = 0;
  while (pick >= DEMO_ROLES[role]!.weight) pick -= DEMO_ROLES[role++]!.weight;
  const pfn = zone.alloc(cpu, plans[role]!, role);
  if (pfn >= 0) held.push(pfn);
}
parentPort!.postMessage({ cpu, held });
