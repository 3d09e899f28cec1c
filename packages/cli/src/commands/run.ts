// run: `faultline run --task ./my-task.ts ...`: one simulation with the user's tasks, a summary per CPU and per
// task, and as the last line the run's digest, so anyone can check that another worker count gives the same run.
import {
  describeTopology,
  formatNs,
  formatPsi,
  startSimulation,
  type LockKind,
  type RunOptions,
  type RunResult,
} from '@faultline/engine';
import { reportRun, renderReport } from '@faultline/report';
import { machineKernelText, runMachineKernel, vmstatOf } from '@faultline/scenarios';
import { machineRunOptions, type MachineCliOptions } from '../machine-options.js';
import { checkOutputPaths, humanStream, JSON_SCHEMAS, writeOutput } from '../options.js';
import { withoutTrace, writeTrace } from '../trace-output.js';
import { watchProgress } from '../progress.js';
import { onInterrupt } from '../supervise.js';
import { textTable } from '../text-table.js';
import { workersHint } from '../workers-hint.js';

export interface RunCommandOptions extends MachineCliOptions {
  readonly task: string[];
  readonly cpus: number;
  readonly workers?: number;
  /** False (--no-follow-load): start the workers asked even when other threads keep the host's cores busy. */
  readonly followLoad?: boolean;
  readonly watchdog?: string;
  readonly trace?: string;
  readonly seed: string;
  readonly duration: string;
  readonly window: string;
  readonly kernel: string;
  readonly json?: string;
  readonly html?: string;
  readonly lock?: string[];
  readonly module?: string[];
}

export function runOptionsFromCli(o: RunCommandOptions): RunOptions {
  return {
    cpus: o.cpus,
    ...(o.workers !== undefined ? { workers: o.workers } : {}),
    seed: o.seed,
    duration: o.duration,
    window: o.window,
    ...machineRunOptions(o),
    kernel: o.kernel as RunOptions['kernel'],
    ...(o.watchdog !== undefined ? { watchdog: o.watchdog } : {}),
    ...(o.trace !== undefined ? { trace: true } : {}),
    locks: Object.fromEntries(
      (o.lock ?? []).map((l) => {
        const [name, kind] = l.split(':');
        return [name!, { kind: kind as LockKind }];
      }),
    ),
    modules: (o.module ?? []).map((spec) => {
      const [module, exp] = spec.split('#');
      return { module: module!, ...(exp ? { export: exp } : {}) };
    }),
    tasks: o.task.map((spec) => {
      const [module, exp] = spec.split('#');
      return { module: module!, ...(exp ? { export: exp } : {}) };
    }),
  };
}

/** The machine's memory as the header line gives it: size, layout, THP. */
export function memoryText(c: RunResult['config']): string {
  const m = c.memory;
  return `memory=${m.mib} MiB  layout=${m.layout}${m.thp !== null ? `  thp=${m.thp}` : ''}`;
}

/** A line per zone: free pages of managed, on per-CPU lists, pages it granted; then the zone lock's totals. */
export function zoneLines(r: RunResult): string[] {
  const lock = `zone lock ${r.zoneLock?.operations ?? 0} operations, waited ${formatNs(r.zoneLock?.waitNs ?? 0)}`;
  return [
    ...r.zones.map(
      (z) =>
        `zone ${z.name}: ${z.freePagesExact} pages free of ${z.pages} managed, ${z.pcpPages} on ` +
        `per-CPU lists, ${z.pagesGranted} granted; watermarks ${z.watermarks.minPages} / ${z.watermarks.lowPages} / ` +
        `${z.watermarks.highPages}`,
    ),
    lock,
  ];
}

export function renderRun(r: RunResult): string {
  const c = r.config;
  const out: string[] = [];
  out.push(
    `faultline run  seed=${c.seed}  cpus=${c.cpus}  workers=${c.workers}  window=${formatNs(c.windowNs)}  ` +
      `${memoryText(c)}  kernel=${c.kernel}`,
  );
  out.push(`machine kernel: ${machineKernelText(runMachineKernel(r))}`);
  if (r.config.topology) out.push(...describeTopology(r.config.topology, r.config.coherence));
  out.push(
    `ended: ${r.endReason ?? 'paused'} at ${formatNs(r.simulatedNs)} simulated, ${r.events} events in ${r.windows} windows, ${(r.host.wallMs / 1000).toFixed(2)} s on the host`,
  );
  out.push(...workersHint(r.host));
  if (r.error) out.push(`error: ${r.error.message}`);
  const label = r.endReason === 'deadlock' ? 'waiting' : 'still waiting at the end';
  for (const w of r.waits) out.push(`  ${label}: ${w}`);
  if (r.lostCpus.length > 0)
    out.push(
      `lost: cpus ${r.lostCpus.join(', ')} went with their worker (it died or was ended); their statistics and tasks are missing below`,
    );
  out.push('');
  out.push(
    textTable(
      ['cpu', 'events', 'busy', 'idle', 'ctx switches', 'msgs out', 'msgs in', 'zone waits', 'lock waits', 'spinning'],
      r.cpus.map((s) => [
        String(s.cpu),
        String(s.events),
        formatNs(s.busyNs),
        formatNs(s.idleNs),
        String(s.contextSwitches),
        String(s.messagesSent),
        String(s.messagesReceived),
        String(s.zoneDeferred),
        String(s.lockWaits),
        formatNs(s.spinNs),
      ]),
    ),
  );
  out.push('');
  const rows: string[][] = [];
  for (const t of r.tasks) {
    const masks = Object.entries(t.allocs);
    if (masks.length === 0)
      rows.push([t.name, String(t.cpu), t.state, String(t.events), formatNs(t.blockedNs), '-', '', '', '', '']);
    for (const [i, [mask, a]] of masks.entries()) {
      rows.push([
        i === 0 ? t.name : '',
        i === 0 ? String(t.cpu) : '',
        i === 0 ? t.state : '',
        i === 0 ? String(t.events) : '',
        i === 0 ? formatNs(t.blockedNs) : '',
        mask,
        String(a.calls),
        String(a.granted),
        String(a.failed + a.mayReclaim),
        formatNs(a.waitNs),
      ]);
    }
  }
  out.push(
    textTable(
      ['task', 'cpu', 'state', 'events', 'blocked', 'allocations by mask', 'calls', 'granted', 'refused', 'zone wait'],
      rows,
    ),
  );
  out.push('');
  const lockRows = r.tasks.flatMap((t) =>
    Object.entries(t.locks).map(([name, l]) => [
      t.name,
      name,
      String(l.acquired),
      String(l.contended),
      formatNs(l.waitNs),
    ]),
  );
  if (lockRows.length > 0) {
    out.push(textTable(['task', 'lock', 'acquired', 'contended', 'waited'], lockRows));
    out.push(
      `locks: ${r.locks?.grants ?? 0} grants at window ends, ${r.locks?.handoffs ?? 0} rwsem handoffs to a waiting writer`,
    );
    out.push('');
  }
  // A module's report, with its long series (timelines, histograms) shortened: --json has them whole.
  const brief = (_: string, v: unknown) =>
    Array.isArray(v) && v.length > 16
      ? `[${v.length} values]`
      : typeof v === 'string' && v.length > 80
        ? `${v.slice(0, 24)}... (${v.length} characters)`
        : v;
  for (const [name, report] of Object.entries(r.modules)) out.push(`module ${name}: ${JSON.stringify(report, brief)}`);
  out.push(
    `vmstat: ${Object.entries(vmstatOf(r))
      .map(([k, v]) => `${k} ${v}`)
      .join('  ')}`,
  );
  out.push(`pressure/memory: ${formatPsi(r.psi.memory).replace('\n', '; ')}`);
  out.push(...zoneLines(r));
  out.push(`digest: ${r.digest}`);
  return out.join('\n');
}

export async function runCommand(o: RunCommandOptions): Promise<RunResult> {
  // With --json - (or --html -) the file is standard output, and what a person reads goes to standard error.
  const say = humanStream(o);
  checkOutputPaths({ '--trace': o.trace });
  const sim = await startSimulation(runOptionsFromCli(o), { followLoad: o.followLoad ?? true });
  say.write(`seed: ${sim.config.seed}\n`);
  const stop = watchProgress('simulating', {
    fraction: () => sim.progress().fraction,
    label: () => `${formatNs(sim.progress().simulatedNs)} of ${formatNs(sim.config.durationNs)}`,
  });
  const quiet = onInterrupt(() => void sim.stop(), process.stderr, "stopping the run at the next window's end");
  let result: RunResult;
  try {
    result = await sim.result;
  } finally {
    quiet();
    stop();
  }
  say.write(`${renderRun(result)}\n`);
  if (result.error) process.stderr.write(`faultline: the run ended on an error: ${result.error.message}\n`);
  if (o.json) {
    writeOutput(
      o.json,
      JSON.stringify({ schema: JSON_SCHEMAS.run, vmstat: vmstatOf(result), result: withoutTrace(result) }, null, 2),
    );
  }
  if (o.html) {
    writeOutput(
      o.html,
      renderReport({
        title: 'faultline run',
        command: `faultline run --task ${(o.task ?? []).join(' ')} --cpus ${result.config.cpus} --seed ${result.config.seed} --duration ${formatNs(result.config.durationNs)}`,
        table: {
          head: ['task', 'cpu', 'state', 'events', 'blocked', 'allocations', 'granted'],
          rows: result.tasks.map((t) => {
            const a = Object.values(t.allocs);
            return [
              t.name,
              String(t.cpu),
              t.state,
              String(t.events),
              formatNs(t.blockedNs),
              String(a.reduce((x, y) => x + y.calls, 0)),
              String(a.reduce((x, y) => x + y.granted, 0)),
            ];
          }),
        },
        runs: [reportRun(result, '(tasks)', {})],
      }),
    );
    if (o.html !== '-') say.write(`report: ${o.html}\n`);
  }
  if (o.trace) say.write(`${await writeTrace(o.trace, result)}\n`);
  return result;
}
