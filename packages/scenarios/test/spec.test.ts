// Scenarios as data: the built-in files, the schema, resolving a user's file with --sets, and every refusal naming
// its field.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { builtinDocument as builtDocument } from '../dist/scenario.js';
import { textKey } from '../dist/yaml-lazy.js';
import { resolveRunConfig } from '@faultline/engine';
import {
  ALL_SCENARIOS,
  builtinDocument,
  getScenario,
  machineKernelText,
  resolveScenario,
  runMachineKernel,
  SCENARIOS,
  scenarioSchema,
  specKey,
  specMachineKernel,
  specOptions,
  validateScenario,
} from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'faultline-spec-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('the built-in scenario files', () => {
  it("are read from the build's parsed copies, each equal to the file parsed now and keyed by the file's text", () => {
    for (const s of ALL_SCENARIOS) {
      const text = readFileSync(new URL(`../scenarios/${s.name}.yaml`, import.meta.url), 'utf8');
      const copy = JSON.parse(readFileSync(new URL(`../dist/builtin-${s.name}.json`, import.meta.url), 'utf8'));
      expect(copy.key, s.name).toBe(textKey(text));
      expect(builtDocument(s.name), s.name).toEqual(YAML.parse(text));
      expect(builtinDocument(s.name), s.name).toEqual(YAML.parse(text));
    }
  });
  it('validates a scenario shape the build compiled no validator for, with ajv loaded on demand', () => {
    const toy = [{ name: 'toy', params: { n: { type: 'integer' as const, min: 1, max: 9, description: 'n' } } }];
    expect(validateScenario({ scenario: 'toy', params: { n: 12 } }, toy, false)).toEqual([
      'params.n: must be <= 9; got 12',
    ]);
    expect(validateScenario({ scenario: 'toy', params: { n: 3 } }, toy, false)).toEqual([]);
  });
  it('are complete, valid descriptions, and the build takes its defaults from them', () => {
    for (const s of ALL_SCENARIOS) {
      const doc = builtinDocument(s.name);
      expect(validateScenario(doc, ALL_SCENARIOS, true), s.name).toEqual([]);
      expect(doc.scenario).toBe(s.name);
      expect(Object.keys(doc.params as object).sort()).toEqual(Object.keys(s.params).sort());
      expect(s.defaults.cpus).toBe(doc.cpus);
      expect(s.summary).toBe(doc.summary);
    }
  });
  it('match the published JSON Schema file (regenerate it with faultline scenario schema)', () => {
    const published = JSON.parse(readFileSync(new URL('../scenario.schema.json', import.meta.url), 'utf8'));
    expect(published).toEqual(scenarioSchema());
  });
  it('build the same run as the file resolved, and a param changes the run', () => {
    const spec = resolveScenario('nowait-starvation');
    const s = getScenario('nowait-starvation');
    const fromSpec = s.build(specOptions(spec, { seed: 'x' }));
    const plain = s.build({ policy: 'spf-nowait', cpus: 4, seed: 'x', duration: '50ms' });
    expect(fromSpec.tasks).toEqual(plain.tasks);
    const more = s.build(
      specOptions(resolveScenario('nowait-starvation', { sets: ['params.stormThreadsPerCpu=3'] }), { seed: 'x' }),
    );
    const storms = (r: typeof plain) => r.tasks.filter((t) => t.name.startsWith('fault-storm'));
    expect(storms(plain)).toHaveLength(6);
    expect(storms(more)).toHaveLength(9);
    expect(storms(more).map((t) => t.cpus![0])).toEqual([1, 1, 1, 2, 2, 2, 3, 3, 3]);
  });

  it("take reclaim.kswapdWakeLatencyNs to the reclaim module's args, and leave it out (and the key alone) unset", () => {
    const reclaimArgs = (sets: string[]) => {
      const spec = resolveScenario('kernel-storm', { sets });
      const built = getScenario('kernel-storm').build(specOptions(spec, { seed: 'x' }));
      return { args: built.modules!.find((m) => m.module.includes('reclaim'))!.args!, key: specKey(spec, 'x') };
    };
    const late = reclaimArgs(['reclaim.kswapdWakeLatencyNs=5000000']);
    const plain = reclaimArgs([]);
    expect(late.args.kswapdWakeLatencyNs).toBe(5_000_000);
    expect(plain.args).not.toHaveProperty('kswapdWakeLatencyNs');
    expect(late.key).not.toBe(plain.key);
    expect(() => resolveScenario('kernel-storm', { sets: ['reclaim.kswapdWakeLatencyNs=-1'] })).toThrow(
      /reclaim\.kswapdWakeLatencyNs/,
    );
  });
});

describe('a user scenario file', () => {
  it('says only what differs; the command line fields and then --sets go over it', () => {
    const p = file(
      'mine.yaml',
      'scenario: nowait-starvation\ncpus: 8\nmachine:\n  memoryMiB: 1024\nparams:\n  victimMask: GFP_KERNEL|__GFP_NORETRY\n',
    );
    const spec = resolveScenario(p, {
      fields: { kernel: 'v5.18', cpus: 6 },
      sets: ['params.stormThreadsPerCpu=4', 'machine.thp=never'],
    });
    expect(spec.cpus).toBe(6);
    expect(spec.kernel).toBe('v5.18');
    expect(spec.machine).toEqual({ memoryMiB: 1024, layout: 'kernel', thp: 'never' });
    expect(spec.params.victimMask).toBe('GFP_KERNEL|__GFP_NORETRY');
    expect(spec.params.stormThreadsPerCpu).toBe(4);
    expect(spec.params.stormCycle).toBe(1024); // from the built-in file
    expect(spec.duration).toBe('50ms');
  });
  it('is JSON as well as YAML', () => {
    const p = file('mine.json', JSON.stringify({ scenario: 'pft', cpus: 2, params: { regionPages: 64 } }));
    expect(resolveScenario(p).params).toEqual({ regionPages: 64, touchNs: 100 });
  });
  it('has a key that changes with any field and with the seed, and not with the order of keys', () => {
    const a = resolveScenario('pft');
    const b = resolveScenario('pft', { sets: ['params.touchNs=101'] });
    const reordered = JSON.parse(JSON.stringify({ params: a.params, ...a }));
    expect(specKey(a, 's', '1')).toBe(specKey(reordered, 's', '1'));
    expect(specKey(a, 's', '1')).not.toBe(specKey(b, 's', '1'));
    expect(specKey(a, 's', '1')).not.toBe(specKey(a, 't', '1'));
    expect(specKey(a, 's', '1')).not.toBe(specKey(a, 's', '2'));
  });
});

describe('refusals name the field and what is allowed', () => {
  const refused = (ref: string, sets: string[] = []) => {
    try {
      resolveScenario(ref, { sets });
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error('accepted');
  };
  it('an unknown field, top-level or among the params', () => {
    expect(refused(file('a.yaml', 'scenario: pft\nfoo: 1\n'))).toMatch(
      /a\.yaml: foo: unknown field; allowed here: schema, scenario, .*params/,
    );
    expect(refused('nowait-starvation', ['params.stormThreads=4'])).toMatch(
      /params\.stormThreads: unknown field; allowed here: stormThreadsPerCpu, /,
    );
    expect(refused('pft', ['params.stormThreadsPerCpu=4'])).toMatch(/allowed here: regionPages, touchNs/);
  });
  it('a value out of range, of the wrong type, not in the list, or a duration without a unit', () => {
    expect(refused('pft', ['cpus=0'])).toContain('cpus: must be >= 1; got 0');
    expect(refused('pft', ['cpus=x'])).toContain('cpus: must be integer; got "x"');
    expect(refused('pft', ['machine.layout=big'])).toContain(
      'machine.layout: must be one of kernel, one-zone; got "big"',
    );
    expect(refused('pft', ['duration=5'])).toContain(
      'duration: must be a number with a unit (ns, us, ms or s), e.g. 10ms; got 5',
    );
    expect(refused('pft', ['policy=fast'])).toMatch(/policy: must be one of classic, .*; got "fast"/);
    expect(refused('nowait-starvation', ['params.stormThreadsPerCpu=65'])).toContain(
      'params.stormThreadsPerCpu: must be <= 64; got 65',
    );
  });
  it('a value only the scenario can judge (a GFP expression), before anything runs', () => {
    expect(refused('nowait-starvation', ['params.victimMask=GFP_BOGUS'])).toMatch(
      /params\.victimMask: GFP mask 'GFP_BOGUS': unknown flag/,
    );
  });
  it('a file that names no scenario or an unknown one, is not YAML, or is missing', () => {
    expect(refused(file('b.yaml', 'cpus: 2\n'))).toMatch(
      /scenario: missing; name the built-in scenario it runs \(nowait-starvation, /,
    );
    expect(refused(file('c.yaml', 'scenario: nope\n'))).toMatch(
      /scenario: must be one of nowait-starvation, .*; got "nope"/,
    );
    expect(refused(file('d.yaml', 'cpus: [\n'))).toMatch(/d\.yaml: not valid YAML or JSON: /);
    expect(refused(join(dir, 'none.yaml'))).toMatch(/none\.yaml: cannot read it/);
    expect(refused('nope')).toMatch(/unknown scenario 'nope'; allowed: nowait-starvation, .* or a scenario file/);
  });
  it('a malformed --set', () => {
    expect(refused('pft', ['cpus'])).toMatch(/--set cpus: must be path=value/);
  });
  it("a library caller's params, checked as a file's are", () => {
    const s = getScenario('pft');
    expect(() =>
      s.build({ policy: 'classic', cpus: 2, seed: 'x', duration: '1ms', params: { regionPages: 0 } }),
    ).toThrow(/params\.regionPages: must be >= 1; got 0/);
  });
});

describe('a custom scenario: tasks, locks and modules as data', () => {
  const root = new URL('../../../', import.meta.url).pathname;
  it('builds the groups it lists, on the CPUs it names, with paths relative to the file', () => {
    const p = file(
      'custom.yaml',
      [
        'scenario: custom',
        'cpus: 3',
        'tasks:',
        `  - { module: ${root}examples/alloc-churn.ts, name: churn, perCpu: 2, cpus: all-but-0 }`,
        '  - { module: ./reader.mjs, export: reader, cpus: [0], args: { gapNs: 500 } }',
        'locks: { m: mutex }',
        'modules: [rcu, reclaim, { module: ./mine.mjs, args: { x: 1 } }]',
        'figures: [churn allocations granted]',
      ].join('\n'),
    );
    const spec = resolveScenario(p, { sets: ['reclaim.scanNsPerPage=300'] });
    const o = getScenario('custom').build(specOptions(spec, { seed: 'x' }));
    expect(o.tasks.map((t) => [t.name, t.cpus, t.perCpu])).toEqual([
      ['churn', [1, 2], 2],
      ['reader.reader', [0], 1],
    ]);
    expect(o.tasks[1]!.module).toBe(join(dir, 'reader.mjs'));
    expect(o.tasks[1]!.args).toEqual({ gapNs: 500 });
    expect(o.locks).toEqual({ m: { kind: 'mutex' } });
    expect(o.modules!.map((m) => [m.module.replace(/^.*\//, ''), m.args])).toEqual([
      ['module.js', {}],
      ['module.js', { scanNsPerPage: 300 }],
      ['mine.mjs', { x: 1 }],
    ]);
    expect(spec.figures).toEqual(['churn allocations granted']);
  });
  it('refuses what a custom scenario needs or does not allow, by field', () => {
    const refused = (text: string) => {
      try {
        resolveScenario(file('c2.yaml', text));
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refused('scenario: custom\n')).toMatch(/custom: tasks: give at least one task group/);
    expect(refused('scenario: pft\ntasks: [{ module: x.mjs }]\n')).toMatch(
      /tasks: only a custom scenario \(scenario: custom\) lists its own; pft builds its tasks itself/,
    );
    expect(refused('scenario: custom\ntasks: [{ module: x.mjs, cpus: some }]\n')).toMatch(
      /tasks\.0\.cpus: must be 'all', 'all-but-0' or a list of CPU numbers; got "some"/,
    );
    expect(refused('scenario: custom\ntasks: [{ module: x.mjs, cpu: 1 }]\n')).toMatch(
      /tasks\.0\.cpu: unknown field; allowed here: module, export/,
    );
    expect(refused('scenario: custom\ntasks: [{ module: x.mjs }]\nlocks: { m: semaphore }\n')).toMatch(
      /locks\.m: must be one of spinlock, mutex, rwsem/,
    );
    expect(refused('scenario: custom\ncpus: 2\ntasks: [{ module: x.mjs, cpus: [5] }]\n')).toMatch(
      /tasks: cpu 5 does not exist on 2 CPUs/,
    );
  });
});

describe("the machine's kernel configuration: machine.hz, machine.platform, machine.tableFreeing", () => {
  const refused = (ref: string, sets: string[]) => {
    try {
      resolveScenario(ref, { sets });
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error('accepted');
  };
  it('goes from a file to the run options and the run config; left out, the run defaults apply', () => {
    const p = file('kernel.yaml', 'scenario: pft\nmachine:\n  hz: 1000\n  platform: paravirt\n  tableFreeing: rcu\n');
    const spec = resolveScenario(p);
    expect(spec.machine).toEqual({
      memoryMiB: 256,
      layout: 'kernel',
      hz: 1000,
      platform: 'paravirt',
      tableFreeing: 'rcu',
    });
    const o = getScenario('pft').build(specOptions(spec, { seed: 'x' }));
    expect([o.hz, o.platform, o.tableFreeing]).toEqual([1000, 'paravirt', 'rcu']);
    const c = resolveRunConfig(o, 1);
    expect([c.hz, c.jiffyNs, c.platform, c.tableFreeing, c.tableFreeingExplicit]).toEqual([
      1000,
      1_000_000,
      'paravirt',
      'rcu',
      true,
    ]);
    const plain = getScenario('pft').build(specOptions(resolveScenario('pft'), { seed: 'x' }));
    expect(['hz', 'platform', 'tableFreeing'].filter((k) => k in plain)).toEqual([]);
    const d = resolveRunConfig(plain, 1);
    expect([d.hz, d.jiffyNs, d.platform, d.tableFreeing, d.tableFreeingExplicit]).toEqual([
      250,
      4_000_000,
      'bare-metal',
      'native',
      false,
    ]);
  });
  it('reaches the run of every built-in scenario (runOf, machineOf)', () => {
    for (const s of SCENARIOS) {
      const spec = resolveScenario(s.name, { sets: ['machine.hz=100', 'machine.platform=paravirt'] });
      const o = s.build(specOptions(spec, { seed: 'x' }));
      expect([o.hz, o.platform], s.name).toEqual([100, 'paravirt']);
    }
  });
  it('refuses a value not allowed, naming the field and the values allowed', () => {
    expect(refused('pft', ['machine.hz=1001'])).toContain('machine.hz: must be one of 100, 250, 300, 1000; got 1001');
    expect(refused('pft', ['machine.hz=fast'])).toContain('machine.hz: must be one of 100, 250, 300, 1000; got "fast"');
    expect(refused('pft', ['machine.platform=kvm'])).toContain(
      'machine.platform: must be one of bare-metal, paravirt; got "kvm"',
    );
    expect(refused('pft', ['machine.tableFreeing=lazy'])).toContain(
      'machine.tableFreeing: must be one of native, rcu; got "lazy"',
    );
  });
  it('says HZ, the jiffy, the platform, how page tables are freed and why, as mm would decide it', () => {
    const kernel = (name: string, sets: string[] = []) => specMachineKernel(resolveScenario(name, { sets }));
    expect(machineKernelText(kernel('nowait-starvation'))).toBe(
      "HZ=250 (jiffy 4 ms)  platform=bare-metal  page tables freed through RCU: fault policy 'spf-nowait' walks " +
        'page tables under RCU',
    );
    expect(machineKernelText(kernel('nowait-starvation', ['policy=classic', 'machine.hz=300']))).toBe(
      'HZ=300 (jiffy 3.333 ms)  platform=bare-metal  page tables freed natively, after the TLB flush: the ' +
        'bare-metal platform',
    );
    expect(kernel('pft', ['machine.platform=paravirt']).tableFreeing).toEqual({
      freeing: 'rcu',
      why: 'the paravirt platform',
    });
    expect(kernel('pft', ['machine.tableFreeing=rcu']).tableFreeing).toEqual({ freeing: 'rcu', why: 'the run' });
    // kernel-storm's RCU ticks at its own rcuTickNs, not at the jiffy: the line says so where they differ.
    expect(machineKernelText(kernel('kernel-storm', ['params.rcuTickNs=1000000']))).toMatch(
      /^HZ=250 \(jiffy 4 ms; RCU's tick 1 ms, the rcu module's tickNs\) {2}platform=bare-metal/,
    );
    expect(kernel('kernel-storm', ['params.rcuTickNs=4000000']).rcuTickNs).toBeNull();
    // Native freeing named for a policy that walks page tables under RCU: refused before any run, with the choices.
    expect(() => kernel('nowait-starvation', ['machine.tableFreeing=native'])).toThrow(
      /^scenario nowait-starvation under policy spf-nowait: machine\.tableFreeing: fault policy 'spf-nowait' walks page tables under RCU alone, .*Allowed: tableFreeing 'rcu', platform 'paravirt', or leave tableFreeing unset$/,
    );
    expect(kernel('nowait-starvation', ['machine.tableFreeing=native', 'policy=classic']).tableFreeing).toEqual({
      freeing: 'native',
      why: 'the run',
    });
  });
  it("reads a finished run's freeing from mm's report, and the machine's where mm did not report", () => {
    const spec = resolveScenario('pft', { sets: ['machine.hz=1000'] });
    const config = resolveRunConfig(getScenario('pft').build(specOptions(spec, { seed: 'x' })), 1);
    const reported = { freeing: 'rcu' as const, why: "fault policy 'mine' walks page tables under RCU" };
    expect(runMachineKernel({ config, modules: { mm: { tableFreeing: reported } } })).toEqual({
      hz: 1000,
      jiffyNs: 1_000_000,
      platform: 'bare-metal',
      tableFreeing: reported,
      rcuTickNs: null,
    });
    expect(runMachineKernel({ config, modules: {} }).tableFreeing).toEqual({
      freeing: 'native',
      why: 'the bare-metal platform',
    });
  });
});
