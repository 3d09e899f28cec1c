// scenario-run: `faultline run <scenario|file>`: one run of a scenario (a built-in one, or a scenario file, with the
// command line's options and --sets over it) under a policy, its figures as a table, the vmstat and PSI lines, and
// the digest as the last line.
import { describeTopology, formatNs, formatPsi, startSimulation, type RunResult } from '@faultline/engine';
import { reportRun, renderReport } from '@faultline/report';
import {
  getScenario,
  machineKernelOf,
  machineKernelText,
  resolveScenario,
  runMachineKernel,
  specOptions,
  specWhere,
  vmstatOf,
} from '@faultline/scenarios';
import { checkOutputPaths, humanStream, JSON_SCHEMAS, writeOutput } from '../options.js';
import { withoutTrace, writeTrace } from '../trace-output.js';
import { figuresOf } from './compare-worker.js';
import { replayArgs, scenarioFields, type ScenarioCliOptions } from '../scenario-fields.js';
import { memoryText, zoneLines } from './run.js';
import { watchProgress } from '../progress.js';
import { onInterrupt } from '../supervise.js';
import { textTable } from '../text-table.js';
import { workersHint } from '../workers-hint.js';

export interface ScenarioRunOptions extends ScenarioCliOptions {
  readonly workers?: number;
  /** False (--no-follow-load): start the workers asked even when other threads keep the host's cores busy. */
  readonly followLoad?: boolean;
  readonly watchdog?: string;
  readonly trace?: string;
  readonly seed: string;
  readonly json?: string;
  readonly html?: string;
}

export async function scenarioRunCommand(ref: string, o: ScenarioRunOptions): Promise<RunResult> {
  // With --json - (or --html -) the file is standard output, and what a person reads goes to standard error.
  const say = humanStream(o);
  checkOutputPaths({ '--trace': o.trace });
  const spec = resolveScenario(ref, { fields: scenarioFields(o), sets: o.set ?? [] });
  const s = getScenario(spec.scenario);
  const name = spec.scenario;
  const policy = spec.policy;
  const built = s.build(specOptions(spec, { seed: o.seed, ...(o.workers ? { workers: o.workers } : {}) }));
  // A machine mm would refuse under this policy (tableFreeing native, a policy walking tables under RCU): now.
  machineKernelOf(built, specWhere(spec));
  const sim = await startSimulation(
    {
      ...built,
      ...(o.watchdog !== undefined ? { watchdog: o.watchdog } : {}),
      ...(o.trace !== undefined ? { trace: true } : {}),
    },
    { followLoad: o.followLoad ?? true },
  );
  say.write(`seed: ${sim.config.seed}\n`);
  const stop = watchProgress(`${name} (${policy})`, {
    fraction: () => sim.progress().fraction,
    label: () => `${formatNs(sim.progress().simulatedNs)} of ${formatNs(sim.config.durationNs)}`,
  });
  const quiet = onInterrupt(() => void sim.stop(), process.stderr, "stopping the run at the next window's end");
  let r: RunResult;
  try {
    r = await sim.result;
  } finally {
    quiet();
    stop();
  }
  const out: string[] = [];
  const c = r.config;
  out.push(
    `faultline run ${name}  policy=${policy}  seed=${c.seed}  cpus=${c.cpus}  workers=${c.workers}  ` +
      `duration=${formatNs(c.durationNs)}  window=${formatNs(c.windowNs)}  ${memoryText(c)}  kernel=${c.kernel}  ` +
      `scan-ns-per-page=${spec.reclaim.scanNsPerPage}`,
  );
  out.push(`machine kernel: ${machineKernelText(runMachineKernel(r))}`);
  if (c.topology) out.push(...describeTopology(c.topology, c.coherence));
  const params =
    Object.entries(spec.params)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join('  ') || '(none)';
  out.push(`params: ${params}`);
  const replay = `faultline run ${replayArgs(spec)} --seed ${c.seed}`;
  out.push(`replay: ${replay}`);
  out.push(
    `ended: ${r.endReason ?? 'paused'} at ${formatNs(r.simulatedNs)} simulated, ${r.events} events, ${(r.host.wallMs / 1000).toFixed(2)} s on the host`,
  );
  out.push(...workersHint(r.host));
  if (r.error) out.push(`error: ${r.error.message}`);
  out.push('');
  // A run that died before its modules reported has no figures; what it gathered is in --json.
  const figures = figuresOf(s, r, spec);
  if (Object.keys(figures).length > 0)
    out.push(
      textTable(
        ['figure', 'value'],
        Object.entries(figures).map(([k, v]) => [k, String(Math.round(v * 100) / 100)]),
      ),
    );
  out.push('');
  // The counters the model has, as /proc/vmstat names them.
  const vmstat = vmstatOf(r);
  out.push(
    `vmstat: ${Object.entries(vmstat)
      .map(([k, v]) => `${k} ${v}`)
      .join('  ')}`,
  );
  out.push(`pressure/memory: ${formatPsi(r.psi.memory).replace('\n', '; ')}`);
  out.push(...zoneLines(r));
  out.push(`digest: ${r.digest}`);
  say.write(`${out.join('\n')}\n`);
  if (r.error) process.stderr.write(`faultline: the run ended on an error: ${r.error.message}\n`);
  if (o.json) {
    const json = {
      schema: JSON_SCHEMAS.scenarioRun,
      scenario: name,
      policy,
      spec,
      figures,
      vmstat,
      result: withoutTrace(r),
    };
    writeOutput(o.json, JSON.stringify(json, null, 2));
  }
  if (o.html) {
    writeOutput(
      o.html,
      renderReport({
        title: `faultline run ${name} (${policy})`,
        command: replay,
        table: {
          head: ['figure', policy],
          rows: Object.entries(figures).map(([k, v]) => [k, String(Math.round(v * 100) / 100)]),
        },
        runs: [reportRun(r, policy, figures)],
      }),
    );
    if (o.html !== '-') say.write(`report: ${o.html}\n`);
  }
  if (o.trace) say.write(`${await writeTrace(o.trace, r)}\n`);
  return r;
}
