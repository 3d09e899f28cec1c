// Benchmark: simulated events per host second for 1, 2, 4 ... workers up to the cores, with parallel efficiency,
// for a synthetic workload where a fraction of events crosses CPUs, at two window lengths, once with plain task code
// (a generator) and once with an XState machine doing the same work; beside the raw cost of one barrier round
// between as many threads, measured in the same run. Medians of REPEATS. Plain runs are long enough (about a second
// of host time each) that each worker's JIT warm-up does not dominate.
// Usage: node engine-scaling.mjs [--cpus N] [--cross F] [--form plain|xstate|both]
import os from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { runSimulation } from '@faultline/engine';

if (!isMainThread) {
  // Raw barrier: the same sense-reversing algorithm as the engine's, spinning then waiting.
  const { sab, n, rounds } = workerData;
  const c = new Int32Array(sab);
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) {
    const gen = Atomics.load(c, 16);
    if (Atomics.add(c, 0, 1) === n - 1) {
      Atomics.store(c, 0, 0);
      Atomics.add(c, 16, 1);
      Atomics.notify(c, 16);
    } else {
      let s = 0;
      while (Atomics.load(c, 16) === gen) {
        if (++s > 2000) Atomics.wait(c, 16, gen, 50);
      }
    }
  }
  parentPort.postMessage(performance.now() - t0);
} else {
  const arg = (name, dflt) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : dflt;
  };
  const REPEATS = 3;
  const cores = os.availableParallelism();
  const cpus = arg('--cpus', Math.max(8, cores));
  const cross = arg('--cross', 0.01);
  const workersList = [1, 2, 4, 8, 16, 32].filter((w) => w <= Math.min(cores, cpus));
  const formArg = process.argv.includes('--form') ? process.argv[process.argv.indexOf('--form') + 1] : 'both';
  const forms = [
    { form: 'plain', module: fileURLToPath(new URL('./tasks/synthetic.mjs', import.meta.url)), scale: 1 },
    // XState is about 30x slower per step: a shorter simulated time keeps each run near a second of host time.
    { form: 'xstate', module: fileURLToPath(new URL('./tasks/synthetic-actor.mjs', import.meta.url)), scale: 1 / 20 },
  ].filter((f) => formArg === 'both' || f.form === formArg);
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const barrierUs = (n) =>
    new Promise((resolve) => {
      const sab = new SharedArrayBuffer(128);
      const rounds = 20_000;
      let done = 0;
      let worst = 0;
      for (let i = 0; i < n; i++) {
        const w = new Worker(new URL(import.meta.url), { workerData: { sab, n, rounds } });
        w.on('message', (ms) => {
          worst = Math.max(worst, ms);
          w.terminate();
          if (++done === n) resolve((worst * 1000) / rounds);
        });
      }
    });
  console.log(
    `engine scaling benchmark: node ${process.version}, ${cores} cores (${os.cpus()[0]?.model ?? '?'}), ${cpus} simulated CPUs, ${cross * 100}% of events cross CPUs, medians of ${REPEATS}`,
  );
  for (const { form, module, scale } of forms)
    for (const [window, durationMs] of [
      ['20us', 200],
      ['1ms', 1000],
    ]) {
      const duration = `${durationMs * scale}ms`;
      console.log(`\n${form} tasks, window ${window}, ${duration} simulated`);
      console.log(
        'workers | events/host s (M) | per worker (M) | efficiency | barrier rounds | time in barriers | raw barrier round',
      );
      let base = 0;
      for (const workers of workersList) {
        const rates = [];
        let last;
        for (let r = 0; r < REPEATS; r++) {
          last = await runSimulation({
            cpus,
            workers,
            seed: 'bench',
            duration,
            window,
            memoryMiB: 64,
            memoryLayout: 'one-zone',
            tasks: [{ module, args: { cross } }],
          });
          if (last.error) throw new Error(last.error.message);
          // Host time of the window loop itself (worker start-up excluded): the slowest worker's.
          rates.push(last.events / (last.host.loopMs / 1000));
        }
        const rate = median(rates);
        if (workers === 1) base = rate;
        const raw = workers > 1 ? `${(await barrierUs(workers)).toFixed(2)} us` : '-';
        console.log(
          `${String(workers).padStart(7)} | ${(rate / 1e6).toFixed(3).padStart(17)} | ${(rate / workers / 1e6).toFixed(3).padStart(14)} | ${((rate / base / workers) * 100).toFixed(0).padStart(9)}% | ${String(last.host.barrierRounds).padStart(14)} | ${((last.host.barrierMs / last.host.loopMs) * 100).toFixed(0).padStart(15)}% | ${raw.padStart(17)}`,
        );
      }
    }
}
