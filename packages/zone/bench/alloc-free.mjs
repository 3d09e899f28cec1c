// Benchmark: alloc+free pairs per second through the per-CPU path (order 0, stays on the CPU's list) and through
// the shared buddy path (order 1, takes the zone lock twice a pair), at 1, 2, 4 ... threads up to the cores, beside
// the raw limits measured in the same run: uncontended Atomics.add per thread (private cache line) and a contended
// compareExchange loop on one shared word. Medians of REPEATS runs. Usage: node alloc-free.mjs [--json FILE]
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { Zone } from '@faultline/zone';

const REPEATS = 5;
const OPS = 2_000_000;

if (!isMainThread) {
  const { kind, sab, zone: desc, cpu, ops } = workerData;
  const ctl = new Int32Array(sab);
  Atomics.add(ctl, 1, 1);
  while (Atomics.load(ctl, 0) === 0) {}
  const t0 = performance.now();
  if (kind === 'atomics-add-private') {
    const k = 32 + cpu * 16;
    for (let i = 0; i < ops; i++) Atomics.add(ctl, k, 1);
  } else if (kind === 'cas-shared') {
    for (let i = 0; i < ops; i++) {
      let v;
      do v = Atomics.load(ctl, 16);
      while (Atomics.compareExchange(ctl, 16, v, v + 1) !== v);
    }
  } else {
    const zone = Zone.attach(desc);
    const plan = zone.plan('GFP_KERNEL', kind === 'pcp' ? 0 : 1);
    if (kind === 'buddy-split' && cpu > 0) throw new Error('buddy-split runs on one thread');
    // Buddy path in a steady, fragmented zone: hold one order-1 block so its buddy's free and alloc do not split
    // and merge a 4 MiB block every time (that worst case is reported separately as buddy-split).
    if (kind === 'buddy') zone.alloc(cpu, plan, cpu);
    for (let i = 0; i < ops; i++) {
      const pfn = zone.alloc(cpu, plan, cpu);
      if (pfn < 0) throw new Error(`allocation failed at op ${i}`);
      zone.free(cpu, pfn);
    }
  }
  parentPort.postMessage(performance.now() - t0);
} else {
  const run = (kind, n, ops) =>
    new Promise((resolve, reject) => {
      const sab = new SharedArrayBuffer(4 * (32 + 16 * 64));
      const ctl = new Int32Array(sab);
      const zone =
        kind === 'pcp' || kind.startsWith('buddy')
          ? Zone.create({ pages: 262_144, cpus: n, owners: n }).descriptor()
          : null;
      const times = [];
      const ws = [];
      for (let cpu = 0; cpu < n; cpu++) {
        const w = new Worker(new URL(import.meta.url), { workerData: { kind, sab, zone, cpu, ops } });
        w.on('error', reject);
        w.on('message', (t) => {
          times.push(t);
          if (times.length === n)
            Promise.all(ws.map((x) => x.terminate())).then(() => resolve((n * ops) / Math.max(...times) / 1e3));
        });
        ws.push(w);
      }
      const go = () => (Atomics.load(ctl, 1) < n ? setTimeout(go, 1) : Atomics.store(ctl, 0, 1));
      go();
    });
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const cores = os.availableParallelism();
  const threads = [1, 2, 4, 8, 16, 32].filter((t) => t <= cores);
  const cpuModel = os.cpus()[0]?.model ?? 'unknown';
  console.log(
    `zone alloc+free benchmark: node ${process.version}, ${cores} cores (${cpuModel}), medians of ${REPEATS}, ${OPS} ops per thread`,
  );
  const rows = [];
  for (const n of threads) {
    const m = {};
    for (const kind of ['atomics-add-private', 'cas-shared', 'pcp', 'buddy', ...(n === 1 ? ['buddy-split'] : [])]) {
      const xs = [];
      for (let r = 0; r < REPEATS; r++) xs.push(await run(kind, n, kind.startsWith('buddy') ? OPS / 4 : OPS));
      m[kind] = median(xs);
    }
    rows.push({ threads: n, ...m });
  }
  const base = rows[0];
  console.log(
    '\nthreads | Atomics.add private (M/s) | CAS shared (M/s) | pcp pairs (M/s) | pcp scaling vs atomics scaling | buddy pairs (M/s) | CAS ops / zone-lock acquisitions',
  );
  for (const r of rows) {
    const pcpScale = r.pcp / base.pcp;
    const atomScale = r['atomics-add-private'] / base['atomics-add-private'];
    console.log(
      `${String(r.threads).padStart(7)} | ${r['atomics-add-private'].toFixed(1).padStart(26)} | ${r['cas-shared'].toFixed(1).padStart(16)} | ${r.pcp.toFixed(2).padStart(15)} | ${(`${pcpScale.toFixed(2)}x vs ${atomScale.toFixed(2)}x`).padStart(30)} | ${r.buddy.toFixed(2).padStart(17)} | ${(r['cas-shared'] / (2 * r.buddy)).toFixed(1).padStart(16)}x`,
    );
  }
  console.log(
    `\nbuddy path splitting and merging a 4 MiB block every pair (empty zone, 1 thread): ${base['buddy-split'].toFixed(2)} M pairs/s`,
  );
  console.log('aims: pcp scaling close to the atomics scaling; CAS ops / zone-lock acquisitions <= 2');
  const i = process.argv.indexOf('--json');
  if (i > 0)
    writeFileSync(
      process.argv[i + 1],
      JSON.stringify({ node: process.version, cores, cpuModel, ops: OPS, repeats: REPEATS, rows }, null, 2),
    );
}
