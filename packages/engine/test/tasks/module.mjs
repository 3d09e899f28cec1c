// A kernel module for the engine's tests. Per CPU it counts context switches and idle entries in shared memory,
// fires a timer every 100 us, charges a return-to-user penalty to every 50th kernel exit, and handles touches
// with a kernel path that allocates a page (the fault handler's shape). Worker 0's commit sums the counts.
import { defineKernelModule } from '../../dist/module-sdk.js';

const SWITCHES = 0;
const IDLES = 1;
const TIMERS = 2;
const EXITS = 3;
const STRIDE = 4;

export default defineKernelModule({
  name: 'counting',
  sharedBytes: (config) => config.cpus * STRIDE * 4 + 64,
  setup({ config, shared, worker }) {
    const counts = new Int32Array(shared);
    const totals = { switches: 0, idles: 0, timers: 0, exits: 0, commits: 0, faults: 0 };
    return {
      attachCpu(cpu) {
        const base = cpu.cpu * STRIDE;
        const tick = () => {
          counts[base + TIMERS]++;
          cpu.timer(cpu.now() + 100_000, tick);
        };
        cpu.timer(100_000, tick);
        return {
          contextSwitch: () => {
            counts[base + SWITCHES]++;
          },
          idle: () => {
            counts[base + IDLES]++;
          },
          returnToUser: () => (++counts[base + EXITS] % 50 === 0 ? 20_000 : 0),
          fault: (task, address) =>
            address % 2 === 0
              ? (function* () {
                  const pfn = yield task.alloc('GFP_KERNEL');
                  yield task.compute(300);
                  return pfn;
                })()
              : null,
        };
      },
      commit() {
        if (worker !== 0) throw new Error('commit on a worker other than 0');
        totals.commits++;
      },
      report() {
        for (let c = 0; c < config.cpus; c++) {
          totals.switches += counts[c * STRIDE + SWITCHES];
          totals.idles += counts[c * STRIDE + IDLES];
          totals.timers += counts[c * STRIDE + TIMERS];
          totals.exits += counts[c * STRIDE + EXITS];
        }
        const r = { ...totals };
        Object.assign(totals, { switches: 0, idles: 0, timers: 0, exits: 0 });
        return r;
      },
    };
  },
});

/** Touches even addresses (faults that allocate) and odd ones (no fault), and frees what faults returned. */
export function* toucher(ctx) {
  const held = [];
  for (let i = 0; ; i++) {
    const r = yield ctx.touch(i * 7);
    if (i % 2 === 0 && r >= 0) held.push(r);
    if (held.length > 20) yield ctx.free(held.shift());
    yield ctx.sleep(2_000 + Math.floor(ctx.random() * 3_000));
  }
}
