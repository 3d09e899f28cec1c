// One simulated CPU hammering a shared zone: random masks and orders, frees of its own pages and of pages other
// CPUs hand it. A shared claim map catches any page handed out twice at the moment it happens.
import { parentPort, workerData } from 'node:worker_threads';
import seedrandom from 'seedrandom';
import { Zone } from '@faultline/zone';

const { zone: desc, cpu, cpus, seed, ops, masks, claims, handoff, handoffSlots, start } = workerData;
const zone = Zone.attach(desc);
const claim = new Int32Array(claims);
const ring = new Int32Array(handoff); // one single-producer ring per (sender, receiver): [head, tail, slots...]
const go = new Int32Array(start);
const rng = seedrandom(`${seed}/cpu${cpu}`);
const plans = masks.map((m) => [0, 0, 0, 1, 2, 3].map((order) => zone.plan(m, order)));
const held = [];
const minFreeSeen = masks.map(() => Infinity);
const grants = masks.map(() => 0);
const stride = 2 + handoffSlots;

function release(pfn) {
  if (Atomics.exchange(claim, pfn, 0) !== cpu + 1)
    throw new Error(`cpu ${cpu}: pfn ${pfn} was not claimed by this CPU`);
  zone.free(cpu, pfn);
}

function pushHandoff(to, pfn) {
  const b = (cpu * cpus + to) * stride;
  const head = Atomics.load(ring, b);
  const tail = Atomics.load(ring, b + 1);
  if (tail - head >= handoffSlots) return false;
  // The receiver frees it, so the claim passes to the receiver before the slot is published.
  if (Atomics.compareExchange(claim, pfn, cpu + 1, to + 1) !== cpu + 1)
    throw new Error(`cpu ${cpu}: lost claim on ${pfn}`);
  ring[b + 2 + (tail % handoffSlots)] = pfn;
  Atomics.store(ring, b + 1, tail + 1);
  return true;
}

function drainHandoff() {
  for (let from = 0; from < cpus; from++) {
    const b = (from * cpus + cpu) * stride;
    let head = Atomics.load(ring, b);
    const tail = Atomics.load(ring, b + 1);
    for (; head < tail; head++) release(ring[b + 2 + (head % handoffSlots)]);
    Atomics.store(ring, b, head);
  }
}

Atomics.add(go, 1, 1);
while (Atomics.load(go, 0) === 0) Atomics.wait(go, 0, 0, 50);

for (let i = 0; i < ops; i++) {
  if (i % 64 === 0) drainHandoff();
  if (held.length > 0 && rng() < 0.47) {
    const k = Math.floor(rng() * held.length);
    const pfn = held[k];
    held[k] = held[held.length - 1];
    held.pop();
    const to = Math.floor(rng() * cpus);
    if (to === cpu || !pushHandoff(to, pfn)) release(pfn);
  } else {
    const m = Math.floor(rng() * masks.length);
    const cp = plans[m][Math.floor(rng() * 6)];
    const pfn = zone.alloc(cpu, cp, m);
    if (pfn < 0) continue;
    for (let p = pfn; p < pfn + (1 << cp.plan.order); p++) {
      const prev = Atomics.compareExchange(claim, p, 0, cpu + 1);
      if (prev !== 0) throw new Error(`cpu ${cpu}: pfn ${p} handed out while CPU ${prev - 1} holds it`);
    }
    // Only the head is recorded for freeing; tails were claimed so overlap is caught, and are released with it.
    for (let p = pfn + 1; p < pfn + (1 << cp.plan.order); p++) Atomics.store(claim, p, 0);
    held.push(pfn);
    grants[m]++;
    if (zone.outcome.freeSeen < minFreeSeen[m]) minFreeSeen[m] = zone.outcome.freeSeen;
  }
}
// Wait until every CPU is done handing off, then take in what is left.
Atomics.add(go, 2, 1);
while (Atomics.load(go, 2) < cpus) Atomics.wait(go, 2, Atomics.load(go, 2), 5);
drainHandoff();
parentPort.postMessage({ cpu, held, minFreeSeen, grants });
