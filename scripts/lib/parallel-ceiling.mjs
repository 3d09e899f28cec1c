// parallel-ceiling: what the host gives two threads that work in rounds, the shape of the window loop without the
// simulator - each round a fixed share of pure compute per thread, then a spin barrier - against one thread doing
// both shares. A speedup near 2 says the cores are there; what a scenario loses beyond it is its own.
// Usage: import { parallelCeiling } from './lib/parallel-ceiling.mjs'; await parallelCeiling({ rounds, work }).
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const body = (n) => {
  let x = 0;
  for (let i = 0; i < n; i++) x = (x + i * 7) % 1_000_003;
  return x;
};

if (!isMainThread && workerData?.parallelCeiling) {
  const { sab, threads, rounds, work } = workerData;
  const c = new Int32Array(sab);
  let sink = 0;
  parentPort.postMessage('ready');
  while (Atomics.load(c, 2) === 0);
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) {
    sink += body(work);
    const gen = Atomics.load(c, 1);
    if (Atomics.add(c, 0, 1) === threads - 1) {
      Atomics.store(c, 0, 0);
      Atomics.add(c, 1, 1);
    } else while (Atomics.load(c, 1) === gen);
  }
  parentPort.postMessage({ ms: performance.now() - t0, sink });
}

async function timed(threads, rounds, work) {
  const sab = new SharedArrayBuffer(64);
  const url = new URL(import.meta.url);
  const ws = Array.from(
    { length: threads },
    () => new Worker(url, { workerData: { parallelCeiling: true, sab, threads, rounds, work } }),
  );
  await Promise.all(ws.map((w) => new Promise((r) => w.once('message', r))));
  const done = ws.map((w) => new Promise((r) => w.once('message', r)));
  Atomics.store(new Int32Array(sab), 2, 1);
  const res = await Promise.all(done);
  await Promise.all(ws.map((w) => w.terminate()));
  return Math.max(...res.map((x) => x.ms));
}

/** Medians of `reps`: one thread's time for rounds of 2 x work, two threads' for rounds of work each, and the
 * speedup; the round's length in us (one thread). */
export async function parallelCeiling({ rounds = 3000, work = 20_000, reps = 3 } = {}) {
  const ones = [];
  const twos = [];
  for (let i = 0; i < reps; i++) {
    ones.push(await timed(1, rounds, work * 2));
    twos.push(await timed(2, rounds, work));
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const one = median(ones);
  const two = median(twos);
  return { oneMs: one, twoMs: two, speedup: one / two, roundUs: (one / rounds) * 1000 };
}
