// The fault-handler machines: the compiled stepper the simulator uses takes exactly the transitions XState's own
// `transition` takes, on random event sequences through every built-in machine; a user's machine policy is loaded
// by path, runs on the built-in steps plus its own, and a machine outside the supported subset is refused by name.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { runSimulation, type RunOptions, type RunResult } from '@faultline/engine';
import { compileMachine, crossCheckMachine } from '@faultline/engine/module';
import { BUILTIN_MACHINES, FAULT_GUARDS, machinePolicy, mmRunParts, type FaultRun } from '../dist/index.js';

const faults = fileURLToPath(new URL('./tasks/faults.mjs', import.meta.url));
type Row = Record<string, number> & { name: string };
const rows = (r: RunResult) => (r.modules.mm as { tasks: Row[] }).tasks;

describe('fault-handler machines', () => {
  it('the compiled stepper agrees with XState on 2,000 random walks through each built-in machine', () => {
    for (const machine of Object.values(BUILTIN_MACHINES)) {
      const r = crossCheckMachine(machine, FAULT_GUARDS, {
        walks: 2_000,
        seed: 'machines',
        context: (rng) => ({ retries: Math.floor(rng() * 2) }) as FaultRun,
        perturb: (run, rng) => {
          if (rng() < 0.2) run.retries = run.retries > 0 ? 0 : 1;
        },
      });
      expect(r.disagreement).toBeNull();
      expect(r.transitions).toBeGreaterThan(2_000);
    }
  });

  it("runs a user's machine policy by path where tables fail: after 3 refaults a fault takes the classic path", async () => {
    // Memory nearly full of page cache and no kswapd, as mm.test.ts's literal storm: GFP_NOWAIT tables fail.
    const policy = fileURLToPath(new URL('./tasks/capped-policy.mjs', import.meta.url));
    const storm = fileURLToPath(new URL('./tasks/faults.mjs', import.meta.url));
    const r = await runSimulation({
      cpus: 2,
      seed: 'faults',
      duration: '10ms',
      window: '20us',
      memoryMiB: 64,
      memoryLayout: 'one-zone',
      ...mmRunParts(
        {
          policy: 'capped',
          policies: [{ name: 'capped', module: policy, export: 'capped', walksTablesUnderRcu: true }],
          mms: [{ vmas: [{ start: 2 ** 44, pages: (64 * 2 ** 30) / 4096 }] }],
        },
        { prefillFilePages: 16_200 },
      ),
      tasks: [{ module: storm, export: 'storm', cpus: [0, 1] }],
    });
    expect(r.error).toBeNull();
    const sum = (k: string) => rows(r).reduce((a, t) => a + t[k]!, 0);
    expect(sum('tableAllocFailures')).toBeGreaterThan(0);
    // A fault whose table kept failing refaulted, and at its 4th refault (the guard: more than 3) fell back and took
    // mmap_lock, which the literal rules never do; one that got its table sooner refaulted fewer times.
    expect(sum('fellBack')).toBeGreaterThan(0);
    expect(sum('classic')).toBe(sum('fellBack'));
    expect(sum('retried')).toBe(sum('tableAllocFailures'));
    expect(sum('retried')).toBeGreaterThanOrEqual(4 * sum('fellBack'));
  });

  it("runs a user's machine policy by path: spf-nowait-literal that gives up after 3 refaults", async () => {
    const policy = fileURLToPath(new URL('./tasks/capped-policy.mjs', import.meta.url));
    const r = await runSimulation({
      cpus: 1,
      seed: 'machine',
      duration: '5ms',
      window: '20us',
      memoryMiB: 64,
      memoryLayout: 'one-zone',
      ...mmRunParts({
        policy: 'capped',
        policies: [{ name: 'capped', module: policy, export: 'capped' }],
        mms: [{ vmas: [{ start: 2 ** 44, pages: 2 ** 24 }] }],
      }),
      tasks: [
        { module: faults, export: 'toucher', name: 'user', cpus: [0], args: { count: 50, strideBytes: 2 ** 30 } },
      ],
    });
    expect(r.error).toBeNull();
    const t = rows(r)[0]!;
    expect(t.faults).toBe(50);
    expect(t.speculativeDone).toBe(50); // memory is plentiful: every NOWAIT table allocation succeeds
    expect(t.policy).toBe('capped');
    // It walks page tables under RCU, as spf-nowait does, but did not say so: the machine's freeing (native) applies.
    type Mm = { tableFreeing: { freeing: string; why: string } };
    expect((r.modules.mm as Mm).tableFreeing.freeing).toBe('native');
    // Declared, the run frees page tables through RCU for it, and refuses a run that asks for native freeing.
    const declared = (extra: Partial<RunOptions> = {}) =>
      runSimulation({
        cpus: 1,
        seed: 'machine',
        duration: '1ms',
        memoryMiB: 64,
        memoryLayout: 'one-zone',
        ...extra,
        ...mmRunParts({
          policy: 'capped',
          policies: [{ name: 'capped', module: policy, export: 'capped', walksTablesUnderRcu: true }],
          mms: [{ vmas: [] }],
        }),
        tasks: [{ module: faults, export: 'toucher', cpus: [0], args: { count: 1 } }],
      });
    expect(((await declared()).modules.mm as Mm).tableFreeing).toEqual({
      freeing: 'rcu',
      why: "fault policy 'capped' walks page tables under RCU",
    });
    await expect(declared({ tableFreeing: 'native' })).rejects.toThrow(
      /fault policy 'capped' walks page tables under RCU/,
    );
  });

  it('refuses a machine outside the subset, and names a step nobody implements', () => {
    const m = setup({}).createMachine({
      id: 'nested',
      initial: 'a',
      states: { a: { initial: 'x', states: { x: {} } } },
    });
    expect(() => compileMachine(m)).toThrow(/kernel machine 'nested': state 'a' is compound; allowed: a flat machine/);
    const entry = setup({ actions: { log: () => undefined } }).createMachine({
      id: 'entry',
      initial: 'a',
      states: { a: { entry: 'log', on: { go: 'b' } }, b: { type: 'final' } },
    });
    expect(() => compileMachine(entry)).toThrow(/state 'a' has entry or exit actions/);
    const unknownStep = setup({}).createMachine({
      id: 'mine',
      initial: 'teleport',
      states: { teleport: { on: { done: 'mapped' } }, mapped: { type: 'final' } },
    });
    expect(() => machinePolicy(unknownStep)).toThrow(
      /kernel machine 'mine': no step for 'teleport'; steps given: lockMmap/,
    );
    const badEnd = setup({}).createMachine({
      id: 'ends',
      initial: 'vma',
      states: { vma: { on: { found: 'mapped', none: 'lost' } }, mapped: { type: 'final' }, lost: { type: 'final' } },
    });
    expect(() => machinePolicy(badEnd)).toThrow(/final state\(s\) lost; allowed: mapped, segv, oom/);
  });
});
