// scenario-rate: what a scenario costs on the host. Per policy, nowait-starvation (4 CPUs, 20 ms simulated, 1
// worker, medians of 3): host seconds, engine events and storm faults per host second. Beside it, measured in the
// same run: one fault-handler transition through the engine's compiled stepper against XState's own pure
// `transition` on the same machine - the reason the machines are compiled.
import os from 'node:os';
import { runSimulation } from '@faultline/engine';
import { compileMachine, nextState } from '@faultline/engine/module';
import { BUILTIN_MACHINES, FAULT_GUARDS } from '@faultline/mm';
import { getScenario, POLICIES } from '@faultline/scenarios';
import { transition } from 'xstate';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const REPS = 3;

// The limit: a fault machine's transitions through XState, and through the stepper.
const machine = BUILTIN_MACHINES['spf-nomemalloc-retry'];
const compiled = compileMachine(machine);
const path = [
  ['writer', 'clear'],
  ['rcuLock', 'done'],
  ['vma', 'found'],
  ['tables', 'ok'],
  ['rcuUnlockPage', 'done'],
  ['page', 'ok'],
  ['speculativeDone', 'done'],
];
const ctx = { retries: 0 };
const timeIt = (n, fn) => {
  const t = performance.now();
  for (let i = 0; i < n; i++) fn();
  return ((performance.now() - t) * 1e3) / (n * path.length);
};
const xstateUs = median(
  Array.from({ length: REPS }, () =>
    timeIt(2_000, () => {
      for (const [state, type] of path)
        transition(machine, machine.resolveState({ value: state, context: ctx }), { type });
    }),
  ),
);
const index = new Map(compiled.states.map((s, i) => [s.name, i]));
const stepperUs = median(
  Array.from({ length: REPS }, () =>
    timeIt(200_000, () => {
      for (const [state, type] of path) nextState(compiled, index.get(state), type, ctx, FAULT_GUARDS);
    }),
  ),
);

console.log(
  `scenario benchmark: node ${process.version}, ${os.availableParallelism()} cores (${os.cpus()[0]?.model.trim()}), medians of ${REPS}`,
);
console.log(
  `fault-machine transition: XState transition() ${xstateUs.toFixed(2)} us, compiled stepper ${(stepperUs * 1e3).toFixed(0)} ns (${(xstateUs / stepperUs).toFixed(0)}x)`,
);
console.log('');
console.log('policy               | host s (20 ms simulated) | events / host s | storm faults / host s');
const s = getScenario('nowait-starvation');
for (const policy of POLICIES) {
  const runs = [];
  for (let i = 0; i < REPS; i++) {
    const r = await runSimulation(s.build({ policy, cpus: 4, workers: 1, seed: 'bench', duration: '20ms' }));
    if (r.error) throw new Error(`${policy}: ${r.error.message}`);
    const f = s.figures(r);
    runs.push({
      wall: r.host.wallMs / 1e3,
      events: r.events,
      faults: f['storm faults/s (k)'] * 1e3 * (r.simulatedNs / 1e9),
    });
  }
  const wall = median(runs.map((x) => x.wall));
  console.log(
    `${policy.padEnd(20)} | ${wall.toFixed(2).padStart(24)} | ${(median(runs.map((x) => x.events / x.wall)) / 1e6).toFixed(2).padStart(13)} M | ${(median(runs.map((x) => x.faults / x.wall)) / 1e3).toFixed(0).padStart(19)} k`,
  );
}
