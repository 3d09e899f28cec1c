// oracle-compare: the kernel's runs (oracle-log.mjs) beside the model's (`faultline compare --json` of kernel-storm)
// for one configuration, and the Markdown of many. Only unitless figures are compared - shares of reclaim, direct
// reclaims per 1,000 allocations, the storm's failure fraction, and pages or times relative to classic's in the same
// boot or the same seeds - because under TCG the guest's clock keeps wall time while its CPUs run far slower than
// hardware. Per mode, the sign of its difference from classic is taken in each: '+' or '-' when the two spreads do
// not overlap (the kernel's [min-max] over its runs, the model's 95% interval over its seeds), '=' when they do; a
// sign agrees when both are the same. Pure: numbers in, numbers and text out; test/oracle.test.ts checks it.
import { MODE_POLICY } from './oracle-log.mjs';

/** The figures compared, and whether each is read relative to classic's (pages, times) or as it is (shares). */
export const COMPARED = [
  ['kswapd share of reclaim (%)', 'share'],
  ['storm share of reclaim (%)', 'share'],
  ['victims share of reclaim (%)', 'share'],
  ['reader share of reclaim (%)', 'share'],
  ['victim direct reclaims per 1k allocs', 'share'],
  ['storm fail (%)', 'share'],
  ['reclaimed by victims', 'relative'],
  ['reclaimed by storm', 'relative'],
  ['reclaimed by kswapd', 'relative'],
  ['reclaimed by reader', 'relative'],
  ['time below min (ms)', 'relative'],
  ['PSI memory some (ms)', 'relative'],
];
/** How the model's paces match the guest's: each group's share of the pages the three were granted, and their
 * rates in guest time (the model is given guest-time costs, so these two sides are in one unit). */
export const PACES = [
  'storm share of pages (%)',
  'victims share of pages (%)',
  'reader share of pages (%)',
  'storm table pages/s (k)',
  'victim allocs/s (k)',
  'reader pages/s (k)',
  'call_rcu to callback (ms)',
  'kswapd pages per run',
];
const BASELINE = 'classic';

/** The figures every sample gets on both sides, computed the same way from the scenario's labels. */
export function derived(f) {
  const g = (k) => f[k] ?? 0;
  const reclaimed =
    g('reclaimed by kswapd') + g('reclaimed by storm') + g('reclaimed by victims') + g('reclaimed by reader');
  const pages = g('storm table pages') + g('victim allocs') + g('reader pages');
  const pct = (x, of) => (of > 0 ? (100 * x) / of : 0);
  return {
    // The model's grace period beside the guest's call_rcu-to-callback delay (none without a storm).
    'call_rcu to callback (ms)': f['grace period p50 (ms)'] > 0 ? f['grace period p50 (ms)'] : Number.NaN,
    ...f,
    'storm share of reclaim (%)': pct(g('reclaimed by storm'), reclaimed),
    'victims share of reclaim (%)': pct(g('reclaimed by victims'), reclaimed),
    'reader share of reclaim (%)': pct(g('reclaimed by reader'), reclaimed),
    'storm share of pages (%)': pct(g('storm table pages'), pages),
    'victims share of pages (%)': pct(g('victim allocs'), pages),
    'reader share of pages (%)': pct(g('reader pages'), pages),
  };
}

const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;
/** Student's t quantile for a two-sided 95% interval (n - 1 degrees of freedom). */
const T95 = [NaN, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145];
export function spread(xs) {
  const v = xs.filter(Number.isFinite);
  if (v.length === 0) return null;
  const m = mean(v);
  const sd = v.length > 1 ? Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / (v.length - 1)) : 0;
  const half = v.length > 1 ? (T95[v.length - 1] ?? 1.96) * (sd / Math.sqrt(v.length)) : 0;
  return { mean: m, min: Math.min(...v), max: Math.max(...v), half, n: v.length };
}

/** '+', '-' or '=': where the mode's interval lies against classic's. */
export function signOf(mode, base) {
  if (!mode || !base) return '?';
  if (mode.lo > base.hi) return '+';
  if (mode.hi < base.lo) return '-';
  return '=';
}
const kernelBand = (s) => s && { lo: s.min, hi: s.max };
const modelBand = (s) => s && { lo: s.mean - s.half, hi: s.mean + s.half };

/**
 * One configuration compared.
 * @param {string} label
 * @param {object} config { kernel, kernelVersion, cpus, memory, stormUs }
 * @param {{ runs: any[] }} parsed parseOracleLog's result
 * @param {{ runs: Array<{ job: { spec: { policy: string } }, figures: Record<string, number> }> } | null} model
 *   `faultline compare --json`'s document, or null when the model was not run
 */
export function compareConfiguration(label, config, parsed, model) {
  const kernelRuns = parsed.runs.filter((r) => !r.error);
  const kernel = groupBy(kernelRuns.map((r) => [r.policy, derived(r.figures)]));
  const modelRuns = (model?.runs ?? []).filter((r) => !r.error && r.figures);
  const sim = groupBy(modelRuns.map((r) => [r.job.spec.policy, derived(r.figures)]));
  const policies = Object.values(MODE_POLICY).filter((p) => kernel[p] || sim[p]);
  const stat = (side, policy, figure) => spread((side[policy] ?? []).map((f) => f[figure]));
  const rows = [];
  for (const [figure, kind] of [...COMPARED, ...PACES.map((p) => [p, 'share'])]) {
    const kb = stat(kernel, BASELINE, figure);
    const mb = stat(sim, BASELINE, figure);
    for (const policy of policies) {
      const k = stat(kernel, policy, figure);
      const m = stat(sim, policy, figure);
      const rel = (s, b) => (s && b && b.mean !== 0 ? s.mean / b.mean : null);
      const row = { figure, kind, policy, kernel: k, model: m };
      if (kind === 'relative') Object.assign(row, { kernelRel: rel(k, kb), modelRel: rel(m, mb) });
      if (policy !== BASELINE && policy in MODEL_OF && !PACES.includes(figure)) {
        row.kernelSign = signOf(kernelBand(k), kernelBand(kb));
        row.modelSign = model ? signOf(modelBand(m), modelBand(mb)) : '?';
        row.agree = row.kernelSign !== '?' && row.kernelSign === row.modelSign;
      }
      rows.push(row);
    }
  }
  const signed = rows.filter(
    (r) => 'agree' in r && COUNTED.has(r.policy) && r.modelSign !== '?' && r.kernelSign !== '?',
  );
  // How steady the kernel's signs are: of every way to drop one run from the mode and one from classic, the share
  // that gives the sign all the runs give (1: any n - 1 runs would have said the same).
  const steady = rows
    .filter((r) => 'kernelSign' in r && r.kernelSign !== '?')
    .map((r) =>
      steadiness(
        (kernel[r.policy] ?? []).map((f) => f[r.figure]),
        (kernel[BASELINE] ?? []).map((f) => f[r.figure]),
        r.kernelSign,
      ),
    )
    .filter((x) => x !== null);
  const costs = Object.fromEntries(
    policies.map((p) => [
      p,
      Object.fromEntries(GUEST_COSTS.map((c) => [c, spread((kernel[p] ?? []).map((f) => f[c]))])),
    ]),
  );
  return {
    label,
    config,
    policies,
    rows,
    agree: signed.filter((r) => r.agree).length,
    compared: signed.length,
    // Where the model resolves a difference the kernel's runs do not: how many runs a mode the kernel would need for
    // its 95% intervals to part at the difference its runs show (normal approximation; median over those rows).
    runsNeeded: median(
      signed
        .filter((r) => !r.agree && r.kernelSign === '=')
        .map((r) => runsToResolve(kernel, r.policy, r.figure))
        .filter(Number.isFinite),
    ),
    // Of the disagreements: opposite signs, and a difference only one side resolves.
    opposite: signed.filter((r) => !r.agree && r.kernelSign !== '=' && r.modelSign !== '=').length,
    kernelUnresolved: signed.filter((r) => !r.agree && r.kernelSign === '=').length,
    modelUnresolved: signed.filter((r) => !r.agree && r.modelSign === '=').length,
    disagreements: signed
      .filter((r) => !r.agree)
      .map((r) => `${r.figure} @ ${r.policy} (kernel ${r.kernelSign}, model ${r.modelSign})`),
    kernelRuns: kernelRuns.length,
    modelRuns: modelRuns.length,
    kernelSteadiness: steady.length ? mean(steady) : null,
    costs,
  };
}

const median = (xs) => {
  if (xs.length === 0) return null;
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};

/** Runs a mode for a difference of means d with the two sides' standard deviations to part at 95%: two intervals
 * of 1.96 sd / sqrt(n) each no wider together than d. */
export function runsToResolve(kernel, policy, figure) {
  const sd = (xs) => {
    const m = mean(xs);
    return xs.length > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1)) : Number.NaN;
  };
  const a = (kernel[policy] ?? []).map((f) => f[figure]).filter(Number.isFinite);
  const b = (kernel[BASELINE] ?? []).map((f) => f[figure]).filter(Number.isFinite);
  const d = Math.abs(mean(a) - mean(b));
  if (a.length < 2 || b.length < 2 || d === 0) return Number.NaN;
  return Math.ceil(((1.96 * (sd(a) + sd(b))) / d) ** 2);
}

/** What the guest spent, per mode (guest time): what the model is given, and how TCG's speed moves with the load. */
export const GUEST_COSTS = [
  'storm CPU per fault (ns)',
  'storm failed attempt (ns)',
  'call_rcu to callback (ms)',
  'victim CPU per allocation (ns)',
  'victim sleep per allocation (us)',
  'reader CPU per page (ns)',
  'kswapd CPU per page scanned (ns)',
  'kswapd wake-up latency (ms)',
];

/** The share of leave-one-out subsamples (one run fewer on each side) whose sign is `sign`; null below 3 runs. */
export function steadiness(mode, base, sign) {
  if (mode.length < 3 || base.length < 3) return null;
  const band = (xs) => ({ lo: Math.min(...xs), hi: Math.max(...xs) });
  let same = 0;
  let all = 0;
  for (let i = 0; i < mode.length; i++)
    for (let j = 0; j < base.length; j++) {
      all++;
      if (signOf(band(mode.filter((_, k) => k !== i)), band(base.filter((_, k) => k !== j))) === sign) same++;
    }
  return same / all;
}
/** The modes whose signs are taken: kernel-storm's policies, and the userspace storm (kernel-storm's classic at
 * ustorm's CPU per fault). The userspace storm's are shown and not counted: the guest's threads also wait on their
 * process's mmap_lock (munmap and mmap every 1,024 faults), which kernel-storm has not, so its pace is not the guest's
 * (the pace rows show how far). */
const MODEL_OF = { 'storm-off': 1, 'spf-nowait-literal': 1, classic: 1, 'spf-nowait': 1, 'userspace storm': 1 };
const COUNTED = new Set(['storm-off', 'spf-nowait-literal', 'spf-nowait']);

function groupBy(pairs) {
  const out = {};
  for (const [k, v] of pairs) (out[k] ??= []).push(v);
  return out;
}

/**
 * The kernel-storm params (and the reclaim cost) that give the model the guest's paces and costs, from one boot's
 * runs, in guest time. Costs come from the classic mode's runs - the storm modes are what is compared, and under TCG
 * a vCPU runs at about half speed while every vCPU is busy (4 vCPUs on a 2-core host), so the storm-off runs' costs
 * are lower - less each group's direct-reclaim time, which the model simulates itself: the storm's CPU per fault,
 * the victims' CPU per allocation, the reader's CPU per page (a `cat` of holes never waits for I/O: CPU-bound) and
 * kswapd's CPU per page scanned. The victims' sleep is usleep_range's time in classic's runs (victimSleep
 * 'classic': the timer and the wait for a CPU that a storm thread holds, which the guest measures at about 1 ms more
 * than with the storm off and the model's scheduler does not produce), or in the storm-off runs ('off': the timer
 * alone, the model's scheduler adding its own wait). `costsFrom` names the mode whose runs give the costs: classic's
 * ('2') by default; the storm-off runs' ('0') for the model's storm-off, whose vCPUs ran faster.
 */
export function modelParams(runs, { threads, cycle, pages = 2, hold = 128, victimSleep = 'classic', costsFrom = '2' }) {
  const ok = runs.filter((r) => !r.error);
  const of = (mode) => ok.filter((r) => r.mode === mode);
  const avg = (rs, f) => {
    const v = rs.map(f).filter(Number.isFinite);
    return v.length ? mean(v) : NaN;
  };
  const busy = of(costsFrom).length ? of(costsFrom) : ok.filter((r) => r.mode !== '0' && r.mode !== 'u');
  const calm = of('0').length ? of('0') : busy;
  const stormFaultNs = avg(busy, ({ counters: { storm } }) => (storm.cpu_ns - storm.rc_ns) / storm.faults);
  // What a failed attempt costs (the literal runs, which fail the most); logs from before it was measured: 0.
  const failing = ok.filter((r) => r.mode === '1' && r.counters.storm.fails > 0 && r.counters.storm.fail_ns >= 0);
  const stormFailNs = avg(failing, ({ counters: { storm } }) => storm.fail_ns / storm.fails);
  const victimComputeNs = avg(
    busy,
    ({ counters: { victim } }) => (victim.cpu_ns - victim.rc_ns) / (victim.allocs + victim.fails),
  );
  const sleepRuns = victimSleep === 'off' ? calm : busy;
  const victimSleepNs = avg(sleepRuns, ({ counters: { victim } }) => victim.sleep_ns / (victim.allocs + victim.fails));
  const readerCpuNs = avg(
    busy,
    ({ counters: { other, reader } }) => (reader.cpu_ns - (other.rc_ns ?? 0)) / reader.pages,
  );
  const readerPeriodNs = avg(busy, ({ counters: { reader } }) => (reader.secs * 1e9) / Math.max(1, reader.pages));
  // The guest's grace period (call_rcu to the batch's callback) is about two of the model's RCU ticks.
  const gpNs = avg(busy, ({ counters: { other } }) => (other.gp_n > 0 ? other.gp_ns / other.gp_n : NaN));
  const scanNsPerPage = avg(busy, ({ counters: { other, vmstat } }) => other.kswapd_cpu_ns / vmstat.pgscan_kswapd);
  // kswapd's wake-up latency (wakeup_kswapd to kswapd_wake): under TCG milliseconds, which a machine's kswapd has
  // not (logs from before it was measured: none, and the model's own, 0).
  const kswapdWakeNs = avg(busy, ({ counters: { other } }) =>
    other.kswapd_wake_n > 0 ? other.kswapd_wake_ns / other.kswapd_wake_n : NaN,
  );
  const whole = (x, lo) => Math.max(lo, Math.round(Number.isFinite(x) ? x : lo));
  // Without the reader's CPU (a log from before it was measured): CPU-bound at its period.
  const copyNs = whole(Number.isFinite(readerCpuNs) ? readerCpuNs : readerPeriodNs, 100);
  const params = {
    stormThreadsPerCpu: threads,
    stormCycle: cycle,
    stormPagesPerFault: pages,
    stormFaultNs: whole(stormFaultNs, 100),
    stormFailNs: whole(stormFailNs, 0),
    victimHoldPages: hold,
    victimComputeNs: whole(victimComputeNs, 100),
    // usleep_range(gap, 2 gap) sleeps 1.5 gap on average.
    victimGapNs: whole(victimSleepNs / 1.5, 1000),
    readerCopyNs: copyNs,
    readerGapNs: 0,
    rcuTickNs: whole(Number.isFinite(gpNs) ? gpNs / 2 : 1e6, 10_000),
  };
  const us = (x) => `${(x / 1e3).toFixed(1)} us`;
  const note =
    `storm ${us(stormFaultNs)} of CPU per fault and ${us(stormFailNs || 0)} per failed attempt, victims ` +
    `${us(victimComputeNs)} per allocation, the reader ` +
    `${us(copyNs)} per page (a page every ${us(readerPeriodNs)}), kswapd ${Math.round(scanNsPerPage)} ns per page ` +
    `scanned (classic's runs); victims' sleep ${us(victimSleepNs)} ` +
    `(${victimSleep === 'off' ? 'storm off' : "classic's"}); a grace period of ${(gpNs / 1e6).toFixed(1)} ms; ` +
    (Number.isFinite(kswapdWakeNs) ? `kswapd woken ${(kswapdWakeNs / 1e6).toFixed(2)} ms late; ` : '') +
    'guest time, means over the runs';
  return {
    params,
    scanNsPerPage: whole(scanNsPerPage, 1),
    ...(Number.isFinite(kswapdWakeNs) ? { kswapdWakeLatencyNs: whole(kswapdWakeNs, 0) } : {}),
    note,
  };
}

// ---- Markdown ----------------------------------------------------------------------------------------------------

const num = (x) => {
  if (x === null || x === undefined || !Number.isFinite(x)) return '-';
  const a = Math.abs(x);
  return a >= 1000
    ? Math.round(x).toLocaleString('en-US')
    : a >= 100
      ? x.toFixed(0)
      : a >= 10
        ? x.toFixed(1)
        : x.toFixed(2);
};
const kernelCell = (s) => (s ? (s.n > 1 ? `${num(s.mean)} [${num(s.min)}-${num(s.max)}]` : num(s.mean)) : '-');
const modelCell = (s) => (s ? (s.n > 1 ? `${num(s.mean)} ± ${num(s.half)}` : num(s.mean)) : '-');
const relCell = (x) => (x === null || x === undefined ? '-' : `${num(x)}x`);

/** The per-configuration tables and a summary, as Markdown. */
export function comparisonMarkdown(results, meta) {
  const out = [];
  const short = {
    'storm-off': 'off',
    'spf-nowait-literal': 'literal',
    classic: 'classic',
    'spf-nowait': 'fallback',
    'userspace storm': 'userspace',
  };
  out.push(
    `Kernel: ${meta.runs} runs a mode of ${meta.secs} s (guest time), modes interleaved in one boot; model: ` +
      `\`faultline compare\` of the configuration's scenario file, ${meta.seeds} seeds of ${meta.modelDuration}` +
      `${meta.seed ? ` (${meta.seed}-1 ..)` : ''}. ` +
      `Storm: ${meta.threads} threads per CPU but CPU 0, ${meta.cycle} faults of 2 table pages a cycle. Signs: ` +
      "the mode against classic, '+'/'-' when the spreads (kernel min-max, model 95% CI) do not overlap, '=' " +
      'when they do.',
    '',
    "Of the disagreements, 'opposite' points opposite ways; 'kernel =' is a difference the model resolves and the " +
      "kernel's runs do not (their min-max overlap), 'model =' the other way round.",
    '',
    "'runs': the median number of runs a mode the kernel would need to resolve the 'kernel =' rows at the " +
      'difference its runs show.',
    '',
    '| configuration | signs that agree | opposite | kernel = | runs | model = | disagreements |',
    '|---|---|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.label} | ${r.agree} of ${r.compared} | ${r.opposite} | ${r.kernelUnresolved} | ` +
        `${r.runsNeeded ?? '-'} | ${r.modelUnresolved} | ` +
        `${r.disagreements.join('; ') || '-'} |`,
    ),
    (() => {
      const sum = (k) => results.reduce((x, r) => x + r[k], 0);
      const runs = median(results.map((r) => r.runsNeeded).filter((x) => x !== null)) ?? '-';
      const counts = `${sum('opposite')} | ${sum('kernelUnresolved')} | ${runs} | ${sum('modelUnresolved')}`;
      return `| all | ${sum('agree')} of ${sum('compared')} | ${counts} | |`;
    })(),
    '',
  );
  const keys = [
    ...new Set(
      results.flatMap((r) =>
        r.rows.filter((x) => 'agree' in x && COUNTED.has(x.policy)).map((x) => `${x.figure} @ ${x.policy}`),
      ),
    ),
  ];
  if (results.length > 1 && keys.length > 0) {
    const cell = (r, key) => {
      const x = r.rows.find((y) => 'agree' in y && `${y.figure} @ ${y.policy}` === key);
      if (!x || x.kernelSign === '?' || x.modelSign === '?') return '';
      return `${x.kernelSign}${x.agree ? '' : `/${x.modelSign} ✗`}`;
    };
    out.push(
      "Each sign by configuration: the kernel's sign, and the model's after it with ✗ where they differ.",
      '',
      `| figure @ mode | agree | ${results.map((r) => r.label.replace(/-storm/, ' ')).join(' | ')} |`,
      `|---|---|${results.map(() => '---').join('|')}|`,
      ...keys.map((key) => {
        const cells = results.map((r) => cell(r, key));
        const known = cells.filter(Boolean);
        return `| ${key} | ${known.filter((c) => !c.includes('✗')).length}/${known.length} | ${cells.join(' | ')} |`;
      }),
      '',
    );
  }
  for (const r of results) {
    const modes = r.policies;
    out.push(
      `### ${r.label}`,
      '',
      `${r.config.kernelVersion}, ${r.config.cpus} vCPUs, ${r.config.memory} MiB, storm_us ${r.config.stormUs}; ` +
        `${r.kernelRuns} kernel runs, ${r.modelRuns} model runs. Cells: kernel mean [min-max] / model mean ± 95% CI ` +
        '(pages and times: relative to classic); then the signs against classic, kernel/model (✗: they differ; ·: ' +
        'they differ where the userspace storm is not counted).',
      '',
      `| figure | ${modes.map((p) => short[p] ?? p).join(' | ')} |`,
      `|---|${modes.map(() => '---').join('|')}|`,
    );
    const figures = [...new Set(r.rows.map((x) => x.figure))];
    for (const figure of figures) {
      const cells = modes.map((p) => {
        const x = r.rows.find((y) => y.figure === figure && y.policy === p);
        if (!x) return '-';
        const v =
          x.kind === 'relative'
            ? `${relCell(x.kernelRel)} / ${relCell(x.modelRel)}`
            : `${kernelCell(x.kernel)} / ${modelCell(x.model)}`;
        const known = x.kernelSign !== '?' && x.modelSign !== '?';
        const mark = !known || x.agree ? '' : COUNTED.has(x.policy) ? ' ✗' : ' ·';
        const s = 'agree' in x ? ` (${x.kernelSign}/${x.modelSign}${mark})` : '';
        return v + s;
      });
      out.push(`| ${figure} | ${cells.join(' | ')} |`);
    }
    out.push(
      '',
      `Guest costs by mode (guest time; mean [min-max])${
        r.kernelSteadiness === null
          ? ''
          : `; the kernel's signs hold in ${(100 * r.kernelSteadiness).toFixed(0)}% of leave-one-out subsamples`
      }:`,
      '',
      `| cost | ${modes.map((p) => short[p] ?? p).join(' | ')} |`,
      `|---|${modes.map(() => '---').join('|')}|`,
      ...GUEST_COSTS.map((c) => `| ${c} | ${modes.map((p) => kernelCell(r.costs?.[p]?.[c])).join(' | ')} |`),
    );
    out.push('');
  }
  if (meta.failures?.length) out.push('Failures:', ...meta.failures.map((f) => `- ${f}`), '');
  return out.join('\n');
}
