// oracle-log: reading what the oracle's guest printed (scripts/oracle/init.sh, flstorm.c, ustorm.c) into one record
// per run, with the figures under the labels the kernel-storm scenario reports, so that the kernel's run and the
// model's can be set side by side (oracle-compare.mjs). Pure: text in, records out; test/oracle.test.ts checks it
// on a captured log.

/** The modes of the guest, by the name of the model's policy that mirrors each. */
export const MODE_POLICY = {
  0: 'storm-off',
  1: 'spf-nowait-literal',
  2: 'classic',
  3: 'spf-nowait',
  u: 'userspace storm',
};

/** key=value pairs of a line, numbers where they parse. */
export function keyValues(line) {
  return Object.fromEntries(
    [...line.matchAll(/(\w+)=(\S+)/g)].map(([, k, v]) => [k, Number.isFinite(Number(v)) ? Number(v) : v]),
  );
}

/** The text between =====FL_BEGIN name and its =====FL_END, or null. */
export function section(text, name) {
  const begin = text.indexOf(`=====FL_BEGIN ${name}\n`);
  if (begin < 0) return null;
  const from = begin + `=====FL_BEGIN ${name}\n`.length;
  const end = text.indexOf('=====FL_END', from);
  return end < 0 ? null : text.slice(from, end);
}

const table = (s) =>
  Object.fromEntries(
    (s ?? '')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => l.trim().split(/\s+/))
      .map(([k, v]) => [k, Number(v)]),
  );

/** /proc/pressure/memory: { some, full } totals in microseconds. */
function psi(s) {
  const out = {};
  for (const l of (s ?? '').trim().split('\n')) {
    const kind = l.split(' ')[0];
    const total = /total=(\d+)/.exec(l);
    if (kind && total) out[kind] = Number(total[1]);
  }
  return out;
}

/**
 * Every run of a guest's log: its mode, the kernel's counters (vmstat and PSI deltas, the module's FLK lines, the
 * userspace storm's line) and the figures derived from them. A run whose module lines are missing (an insmod error,
 * a guest that died) is returned with `error` set, not dropped.
 * @param {string} raw the serial console's text
 * @param {string} file a name for the log, kept on each run
 */
export function parseOracleLog(raw, file = 'log') {
  const text = raw.replace(/\r/g, '');
  const params = keyValues(/=====FL_PARAMS (.*)/.exec(text)?.[1] ?? '');
  const kernel = /=====FL_PARAMS .*kernel=(\S+)/.exec(text)?.[1] ?? 'unknown';
  const runs = [];
  for (const [, tag, mode] of text.matchAll(/=====FL_RUN (run\d+\.mode(\w)) start/g)) {
    const start = text.indexOf(`=====FL_RUN ${tag} start`);
    const stop = text.indexOf(`=====FL_RUN ${tag} stop`);
    const base = { file, kernel, tag, mode, policy: MODE_POLICY[mode] ?? `mode ${mode}` };
    const flk = section(text, `${tag}.flk`);
    if (stop < 0 || flk === null) {
      runs.push({ ...base, error: 'the run did not finish (no stop line or no module lines)' });
      continue;
    }
    const group = (g) => {
      const m = new RegExp(`FLK ${g} (.*)`).exec(flk);
      return m ? keyValues(m[1]) : null;
    };
    const storm = group('storm');
    const victim = group('victim');
    const other = group('other');
    if (!storm || !victim || !other) {
      runs.push({ ...base, error: `module lines missing in ${tag}.flk` });
      continue;
    }
    const before = table(section(text, `${tag}.vmstat_before`));
    const after = table(section(text, `${tag}.vmstat_after`));
    const d = (k) => (after[k] ?? 0) - (before[k] ?? 0);
    const pb = psi(section(text, `${tag}.psi_before`));
    const pa = psi(section(text, `${tag}.psi_after`));
    const ustorm = keyValues(/=====FL_USTORM (.*)/.exec(text.slice(start, stop))?.[1] ?? '');
    // The reader's CPU: clock ticks of its cats (init.sh's rcpu), at USER_HZ (100 on x86).
    const line = (at) => keyValues(text.slice(at, text.indexOf('\n', at)));
    const [t0, t1] = [line(start), line(stop)];
    const ticks = t1.reader_ticks - t0.reader_ticks;
    const reader = { cpu_ns: Number.isFinite(ticks) ? (ticks * 1e9) / (t0.clk_tck || 100) : NaN };
    const vmstat = Object.fromEntries(Object.keys(after).map((k) => [k, d(k)]));
    // The reader's pages: page cache added over the run, what is there now less what was there, plus what reclaim
    // took (no swap: every page reclaimed is page cache), as /proc/vmstat counts them over the run's window.
    reader.pages = d('nr_file_pages') + d('pgsteal_kswapd') + d('pgsteal_direct');
    reader.secs = t1.uptime - t0.uptime;
    const counters = { storm, victim, other, ustorm, reader, vmstat };
    // OOM kills: the guest's count of dmesg's "Killed process" lines (older logs: the lines themselves).
    const kills = Number(/FLK kills=(\d+)/.exec(flk)?.[1] ?? (flk.match(/Killed process/g) ?? []).length);
    runs.push({ ...base, counters, figures: kernelFigures(mode, counters, pa, pb, kills) });
  }
  return { file, kernel, params, runs };
}

/** A run's figures under the kernel-storm scenario's labels (packages/scenarios/src/kernel-storm.ts). */
function kernelFigures(mode, c, pa, pb, kills) {
  const { storm, victim, other, ustorm, vmstat } = c;
  const secs = other.secs_ns / 1e9;
  const user = mode === 'u';
  const stormPages = user ? 2 * (ustorm.faults ?? 0) : storm.allocs;
  const stormFails = user ? 0 : storm.fails;
  const steal = (vmstat.pgsteal_kswapd ?? 0) + (vmstat.pgsteal_direct ?? 0);
  const belowMin = other.mon_samples > 0 ? other.mon_below_min / other.mon_samples : 0;
  return {
    'storm table pages': stormPages,
    'storm failures': stormFails,
    'storm fallbacks': user ? 0 : storm.fallbacks,
    'storm direct reclaims': user ? other.ustorm_rc_calls : storm.rc_calls,
    'reclaimed by storm': user ? other.ustorm_rc_pages : storm.rc_pages,
    'storm batch-page failures': user ? 0 : storm.batch_fails,
    'victim allocs': victim.allocs,
    'victim failures': victim.fails,
    'victim direct reclaims': victim.rc_calls,
    'reclaimed by victims': victim.rc_pages,
    'victim reclaim stall (ms)': victim.rc_ns / 1e6,
    'victim direct reclaims per 1k allocs': victim.allocs > 0 ? (1000 * victim.rc_calls) / victim.allocs : 0,
    'reader pages': c.reader.pages,
    'reader direct reclaims': other.rc_calls,
    'reclaimed by reader': other.rc_pages,
    'reclaimed by kswapd': vmstat.pgsteal_kswapd ?? 0,
    'kswapd share of reclaim (%)': steal > 0 ? (100 * (vmstat.pgsteal_kswapd ?? 0)) / steal : 0,
    'storm fail (%)': stormPages + stormFails > 0 ? (100 * stormFails) / (stormPages + stormFails) : 0,
    'storm table pages/s (k)': stormPages / secs / 1e3,
    'victim allocs/s (k)': victim.allocs / secs / 1e3,
    'reader pages/s (k)': c.reader.pages / c.reader.secs / 1e3,
    // The same pages as the mm_filemap_add_to_page_cache tracepoint counted them (logs of flstorm.ko that had it).
    'reader pages (tracepoint)': other.cache_pages ?? Number.NaN,
    'OOM kills': kills,
    'kswapd pages per run': vmstat.pageoutrun > 0 ? (vmstat.pgsteal_kswapd ?? 0) / vmstat.pageoutrun : 0,
    'time below min (ms)': belowMin * secs * 1e3,
    'PSI memory some (ms)': ((pa.some ?? 0) - (pb.some ?? 0)) / 1e3,
    'PSI memory full (ms)': ((pa.full ?? 0) - (pb.full ?? 0)) / 1e3,
    // What the model is given from the guest (guest time): costs and paces.
    'run (s)': secs,
    'storm CPU per fault (ns)': storm.faults > 0 ? storm.cpu_ns / storm.faults : NaN,
    'victim CPU per allocation (ns)':
      victim.allocs + victim.fails > 0 ? victim.cpu_ns / (victim.allocs + victim.fails) : NaN,
    'kswapd CPU per page scanned (ns)': vmstat.pgscan_kswapd > 0 ? other.kswapd_cpu_ns / vmstat.pgscan_kswapd : NaN,
    // Less its direct reclaim, which the model simulates (other.rc_ns: the reader is every task but the module's).
    'reader CPU per page (ns)': c.reader.pages > 0 ? (c.reader.cpu_ns - (other.rc_ns ?? 0)) / c.reader.pages : NaN,
    'storm failed attempt (ns)': !user && storm.fails > 0 ? storm.fail_ns / storm.fails : NaN,
    'call_rcu to callback (ms)': other.gp_n > 0 ? other.gp_ns / other.gp_n / 1e6 : NaN,
    'kswapd wake-up latency (ms)': other.kswapd_wake_n > 0 ? other.kswapd_wake_ns / other.kswapd_wake_n / 1e6 : NaN,
    'victim sleep per allocation (us)':
      victim.allocs > 0 ? victim.sleep_ns / 1e3 / (victim.allocs + victim.fails) : NaN,
    'storm threads': user ? ustorm.threads : storm.threads,
    'victim threads': victim.threads,
  };
}
