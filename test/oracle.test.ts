// The oracle's reading of the real kernel (scripts/lib/oracle-log.mjs) and its side-by-side with the model
// (scripts/lib/oracle-compare.mjs), on a console log captured from `npm run oracle` (Debian's 6.1 under QEMU TCG,
// 4 vCPUs, 256 MiB, three runs a mode of 6 s: test/fixtures/oracle/). The boot itself needs root, apt and minutes, so it
// is not run here.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module of the scripts, without types
import {
  compareConfiguration,
  comparisonMarkdown,
  modelParams,
  runsToResolve,
  signOf,
  spread,
} from '../scripts/lib/oracle-compare.mjs';
// @ts-expect-error: as above
import { parseOracleLog } from '../scripts/lib/oracle-log.mjs';

const text = readFileSync(
  fileURLToPath(new URL('./fixtures/oracle/k6.1-4cpu-256M.log', import.meta.url)),
  'utf8',
).replace(/\r/g, '');
/** A module line's value, read straight from the log, independently of the parser. */
function flk(run: number, group: string, key: string): number {
  const body = text.split(new RegExp(`=====FL_BEGIN run${run}\\.mode\\w\\.flk\n`))[1]!.split('=====FL_END')[0]!;
  const line = body.split('\n').find((l) => l.includes(`FLK ${group} `))!;
  return Number(new RegExp(`\\b${key}=(\\d+)`).exec(line)![1]);
}

describe('oracle log', () => {
  const log = parseOracleLog(text, 'fixture');

  it('finds every run, its mode and the kernel', () => {
    expect(log.kernel).toBe('6.1.0-57-amd64');
    const order = ['0', '1', '2', '3', 'u'];
    expect(log.runs.map((r: { mode: string }) => r.mode)).toEqual([...order, ...order, ...order]);
    expect(log.runs.slice(0, 5).map((r: { policy: string }) => r.policy)).toEqual([
      'storm-off',
      'spf-nowait-literal',
      'classic',
      'spf-nowait',
      'userspace storm',
    ]);
    expect(log.runs.every((r: { error?: string }) => r.error === undefined)).toBe(true);
  });

  it("reads the module's counters under the model's labels", () => {
    const literal = log.runs[1].figures;
    const allocs = flk(2, 'storm', 'allocs');
    const fails = flk(2, 'storm', 'fails');
    expect(fails).toBeGreaterThan(0);
    expect(literal['storm table pages']).toBe(allocs);
    expect(literal['storm failures']).toBe(fails);
    expect(literal['storm fail (%)']).toBeCloseTo((100 * fails) / (allocs + fails), 9);
    expect(literal['reclaimed by victims']).toBe(flk(2, 'victim', 'rc_pages'));
    // The reader's pages from /proc/vmstat over the run: file pages now less then, plus what reclaim took.
    const vm = (w: string, k: string) =>
      Number(new RegExp(`^${k} (\\d+)$`, 'm').exec(text.split(`=====FL_BEGIN run2.mode1.vmstat_${w}\n`)[1]!)![1]);
    const delta = (k: string) => vm('after', k) - vm('before', k);
    expect(literal['reader pages']).toBe(delta('nr_file_pages') + delta('pgsteal_kswapd') + delta('pgsteal_direct'));
    // ... which the page cache's tracepoint (flstorm.ko had a probe on it when the fixture was taken) confirms: a
    // little fewer, the tracepoint counting from insmod to rmmod, a little longer than the run.
    for (const r of log.runs) {
      const ratio = r.figures['reader pages'] / r.figures['reader pages (tracepoint)'];
      expect(ratio).toBeGreaterThan(0.85);
      expect(ratio).toBeLessThan(1.02);
    }
    expect(literal['run (s)']).toBeCloseTo(flk(2, 'other', 'secs_ns') / 1e9, 9);
    const classic = log.runs[2].figures;
    expect(classic['storm failures']).toBe(0);
    expect(classic['reclaimed by storm']).toBe(flk(3, 'storm', 'rc_pages'));
    expect(log.runs[3].figures['storm fallbacks']).toBe(flk(4, 'storm', 'fallbacks'));
  });

  it("takes kswapd's pages and PSI from the vmstat and pressure deltas", () => {
    const section = (name: string) => text.split(`=====FL_BEGIN ${name}\n`)[1]!.split('=====FL_END')[0]!;
    const value = (s: string, k: string) => Number(new RegExp(`^${k} (\\d+)$`, 'm').exec(s)![1]);
    const steal =
      value(section('run3.mode2.vmstat_after'), 'pgsteal_kswapd') -
      value(section('run3.mode2.vmstat_before'), 'pgsteal_kswapd');
    expect(steal).toBeGreaterThan(0);
    expect(log.runs[2].figures['reclaimed by kswapd']).toBe(steal);
    const some = (s: string) => Number(/^some .*total=(\d+)/m.exec(s)![1]);
    expect(log.runs[2].figures['PSI memory some (ms)']).toBeCloseTo(
      (some(section('run3.mode2.psi_after')) - some(section('run3.mode2.psi_before'))) / 1e3,
      9,
    );
  });

  it("counts the userspace storm's faults as two table pages each", () => {
    const faults = Number(/=====FL_USTORM .*faults=(\d+)/.exec(text)![1]);
    expect(log.runs[4].figures['storm table pages']).toBe(2 * faults);
    expect(log.runs[4].figures['reclaimed by storm']).toBe(flk(5, 'other', 'ustorm_rc_pages'));
  });

  it('keeps a run the guest did not finish, with its error', () => {
    const cut = text.slice(0, text.indexOf('=====FL_RUN run4.mode3 stop'));
    const runs = parseOracleLog(cut, 'cut').runs;
    expect(runs.slice(0, 3).every((r: { error?: string }) => r.error === undefined)).toBe(true);
    expect(runs[3].error).toMatch(/did not finish/);
  });
});

describe('the model given the guest', () => {
  // The fixture's runs: modes 0, 1, 2, 3, u in turn, three times: classic (mode 2) is runs 3, 8 and 13.
  const classic = [3, 8, 13];
  const off = [1, 6, 11];
  const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
  const ticks = (run: number, at: string) =>
    Number(new RegExp(`=====FL_RUN run${run}\\.mode\\w ${at} .*reader_ticks=(\\d+)`).exec(text)![1]);
  const scanned = (run: number, w: string) =>
    Number(
      /^pgscan_kswapd (\d+)$/m.exec(
        text.split(new RegExp(`=====FL_BEGIN run${run}\\.mode\\w\\.vmstat_${w}\n`))[1]!,
      )![1],
    );

  it("takes kswapd's wake-up latency where the log measured it, and leaves the model's own (0) where it did not", () => {
    const plain = modelParams(parseOracleLog(text, 'fixture').runs, { threads: 2, cycle: 1024 });
    expect(plain).not.toHaveProperty('kswapdWakeLatencyNs');
    // The same log with the latency flstorm now reports: 3 ms over 2 wake-ups on each FLK other line.
    const measured = text.replace(/^(.*FLK other .*)$/gm, '$1 kswapd_wake_ns=3000000 kswapd_wake_n=2');
    const { runs } = parseOracleLog(measured, 'fixture');
    expect(modelParams(runs, { threads: 2, cycle: 1024 }).kswapdWakeLatencyNs).toBe(1_500_000);
    expect(modelParams(runs, { threads: 2, cycle: 1024 }).note).toMatch(/kswapd woken 1\.50 ms late/);
  });

  it("takes the storm's, the victims', the reader's and kswapd's costs from classic, less their reclaim", () => {
    const { runs } = parseOracleLog(text, 'fixture');
    expect(runs.filter((r: { mode: string }) => r.mode === '2').map((r: { tag: string }) => r.tag)).toEqual(
      classic.map((n) => `run${n}.mode2`),
    );
    const p = modelParams(runs, { threads: 2, cycle: 1024 });
    const per = (n: number, g: string, k: string, by: (n: number) => number) =>
      (flk(n, g, k) - flk(n, g, 'rc_ns')) / by(n);
    const stormNs = mean(classic.map((n) => per(n, 'storm', 'cpu_ns', (m) => flk(m, 'storm', 'faults'))));
    expect(p.params.stormFaultNs).toBe(Math.round(stormNs));
    const victims = (m: number) => flk(m, 'victim', 'allocs') + flk(m, 'victim', 'fails');
    expect(p.params.victimComputeNs).toBe(Math.round(mean(classic.map((n) => per(n, 'victim', 'cpu_ns', victims)))));
    const sleep = (ns: number[]) => Math.round(mean(ns.map((n) => flk(n, 'victim', 'sleep_ns') / victims(n))) / 1.5);
    expect(p.params.victimGapNs).toBe(sleep(classic));
    expect(modelParams(runs, { threads: 2, cycle: 1024, victimSleep: 'off' }).params.victimGapNs).toBe(sleep(off));
    // The storm-off runs' own costs, for the model's storm-off.
    const calm = modelParams(runs, { threads: 2, cycle: 1024, costsFrom: '0' });
    expect(calm.params.victimComputeNs).toBe(Math.round(mean(off.map((n) => per(n, 'victim', 'cpu_ns', victims)))));
    expect(calm.params.victimComputeNs).toBeLessThan(p.params.victimComputeNs);
    // The reader: its cats' clock ticks (10 ms each) less its direct reclaim, per page it added.
    const reader = (n: number) =>
      ((ticks(n, 'stop') - ticks(n, 'start')) * 1e7 - flk(n, 'other', 'rc_ns')) /
      runs.find((r: { tag: string }) => r.tag === `run${n}.mode2`).figures['reader pages'];
    expect(reader(3)).toBeGreaterThan(0);
    expect(p.params.readerCopyNs).toBe(Math.round(mean(classic.map(reader))));
    expect(p.params.readerGapNs).toBe(0);
    const kswapd = (n: number) => flk(n, 'other', 'kswapd_cpu_ns') / (scanned(n, 'after') - scanned(n, 'before'));
    expect(p.scanNsPerPage).toBe(Math.round(mean(classic.map(kswapd))));
    // A failed attempt's cost, from the literal runs (mode 1), which fail the most.
    const literal = [2, 7, 12];
    expect(flk(2, 'storm', 'fails')).toBeGreaterThan(0);
    const fail = mean(literal.map((n) => flk(n, 'storm', 'fail_ns') / flk(n, 'storm', 'fails')));
    expect(p.params.stormFailNs).toBe(Math.round(fail));
    // The grace period: call_rcu to the batch's callback in classic's runs, two of the model's RCU ticks.
    const gp = mean(classic.map((n) => flk(n, 'other', 'gp_ns') / flk(n, 'other', 'gp_n')));
    expect(gp).toBeGreaterThan(1e6);
    expect(p.params.rcuTickNs).toBe(Math.round(gp / 2));
    expect(p.note).toMatch(/guest time/);
  });
});

describe('signs', () => {
  it('is + or - only when the spreads do not overlap', () => {
    expect(signOf({ lo: 5, hi: 6 }, { lo: 1, hi: 4 })).toBe('+');
    expect(signOf({ lo: 1, hi: 2 }, { lo: 3, hi: 4 })).toBe('-');
    expect(signOf({ lo: 1, hi: 3.5 }, { lo: 3, hi: 4 })).toBe('=');
    expect(signOf({ lo: 3.5, hi: 5 }, { lo: 3, hi: 4 })).toBe('=');
    expect(signOf(null, { lo: 3, hi: 4 })).toBe('?');
  });

  it('says how many runs would part two overlapping spreads', () => {
    const runs = (xs: number[]) => xs.map((x) => ({ f: x }));
    // Means 10 and 12, standard deviations 1 and 1: (1.96 * 2 / 2)^2 = 3.84, so 4 runs a side.
    expect(runsToResolve({ a: runs([9, 10, 11]), classic: runs([11, 12, 13]) }, 'a', 'f')).toBe(4);
    expect(runsToResolve({ a: runs([9, 10, 11]), classic: runs([9.5, 10, 10.5]) }, 'a', 'f')).toBeNaN();
  });

  it("gives a 95% interval with Student's t", () => {
    const s = spread([1, 2, 3]);
    expect(s.mean).toBe(2);
    expect(s.half).toBeCloseTo(4.303 * (1 / Math.sqrt(3)), 6);
    expect(spread([7]).half).toBe(0);
  });

  it('agrees where both sides point the same way and names each disagreement', () => {
    const { runs } = parseOracleLog(text, 'fixture');
    // Model runs made to agree on the literal storm's share of reclaim and disagree on the victims' pages.
    const fig = (policy: string, storm: number, victims: number) => ({
      job: { spec: { policy } },
      figures: {
        'reclaimed by kswapd': 1000,
        'reclaimed by storm': storm,
        'reclaimed by victims': victims,
        'reclaimed by reader': 10,
        'storm table pages': 100,
        'victim allocs': 10,
        'reader pages': 10,
        // The same under both: '=' for the model.
        'kswapd share of reclaim (%)': 60,
        'victim direct reclaims per 1k allocs': 1,
        'storm fail (%)': 0,
        'time below min (ms)': 1,
        'PSI memory some (ms)': 1,
      },
    });
    const model = {
      runs: [
        ...[0, 1, 2].map((i) => fig('classic', 500 + i, 100 + i)),
        ...[0, 1, 2].map((i) => fig('spf-nowait-literal', i, 10 + i)),
      ],
    };
    const c = compareConfiguration(
      'fixture',
      { kernelVersion: '6.1', cpus: 4, memory: 256, stormUs: 0 },
      { runs },
      model,
    );
    const row = (figure: string, policy: string) =>
      c.rows.find((r: { figure: string; policy: string }) => r.figure === figure && r.policy === policy);
    const storm = row('storm share of reclaim (%)', 'spf-nowait-literal');
    expect(storm.kernelSign).toBe('-');
    expect(storm.modelSign).toBe('-');
    expect(storm.agree).toBe(true);
    const victims = row('reclaimed by victims', 'spf-nowait-literal');
    expect(victims.kernelSign).toBe('+');
    expect(victims.modelSign).toBe('-');
    expect(victims.agree).toBe(false);
    expect(victims.modelRel).toBeCloseTo(11 / 101, 6);
    expect(c.disagreements).toContain('reclaimed by victims @ spf-nowait-literal (kernel +, model -)');
    // Modes the model did not run are not counted either way.
    expect(row('reclaimed by victims', 'spf-nowait').modelSign).toBe('?');
    // Only the literal mode was modelled: its 12 compared figures are signed, and each agrees or is named.
    expect(c.compared).toBe(12);
    expect(c.agree + c.disagreements.length).toBe(12);
    // The victims' pages point opposite ways; what only one side resolves is counted apart.
    expect(c.opposite).toBeGreaterThanOrEqual(1);
    expect(c.opposite + c.kernelUnresolved + c.modelUnresolved).toBe(c.disagreements.length);
    const md = comparisonMarkdown([c], { secs: 4, runs: 1, seeds: 3, modelDuration: '2s', threads: 2, cycle: 1024 });
    expect(md).toContain(`| fixture | ${c.agree} of 12 | ${c.opposite} |`);
    expect(md).toMatch(/\| reclaimed by victims \|.*\(\+\/- ✗\)/);
  });
});
