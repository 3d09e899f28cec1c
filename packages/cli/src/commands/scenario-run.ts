// scenario-run: `faultline run <scenario>`: one run of a built-in scenario under a policy, its figures as a table,
// the per-task summary of `faultline run`, and the digest as the last line.
import { formatNs, formatPsi, startSimulation, type RunResult } from '@faultline/engine';
import { reportRun, renderReport } from '@faultline/report';
import { getScenario, vmstatOf } from '@faultline/scenarios';
import { machineFlags, machineRunOptions, type MachineCliOptions } from '../machine-options.js';
import { humanStream, JSON_SCHEMAS, writeOutput } from '../options.js';
import { memoryText, zoneLines } from './run.js';
import { watchProgress } from '../progress.js';
import { textTable } from '../text-table.js';

export interface ScenarioRunOptions extends MachineCliOptions {
  readonly policy?: string;
  readonly cpus?: number;
  readonly workers?: number;
  readonly seed: string;
  readonly duration?: string;
  readonly window?: string;
  readonly kernel?: 'v5.18' | 'v6.3+';
  readonly scanNsPerPage?: number;
  readonly json?: string;
  readonly html?: string;
}

export async function scenarioRunCommand(name: string, o: ScenarioRunOptions): Promise<RunResult> {
  const s = getScenario(name);
  // With --json - (or --html -) the file is standard output, and what a person reads goes to standard error.
  const say = humanStream(o);
  const policy = o.policy ?? s.defaults.policy;
  const sim = await startSimulation(s.build({
    policy, cpus: o.cpus ?? s.defaults.cpus, ...(o.workers ? { workers: o.workers } : {}), seed: o.seed, duration: o.duration ?? s.defaults.duration,
    ...(o.window ? { window: o.window } : {}), ...machineRunOptions(o), ...(o.kernel ? { kernel: o.kernel } : {}),
    ...(o.scanNsPerPage !== undefined ? { scanNsPerPage: o.scanNsPerPage } : {}),
  }));
  say.write(`seed: ${sim.config.seed}\n`);
  const stop = watchProgress(`${name} (${policy})`, {
    fraction: () => sim.progress().fraction,
    label: () => `${formatNs(sim.progress().simulatedNs)} of ${formatNs(sim.config.durationNs)}`,
  });
  let r: RunResult;
  try {
    r = await sim.result;
  } finally {
    stop();
  }
  const out: string[] = [];
  const c = r.config;
  const scan = o.scanNsPerPage !== undefined ? `  scan-ns-per-page=${o.scanNsPerPage}` : '';
  out.push(`faultline run ${name}  policy=${policy}  seed=${c.seed}  cpus=${c.cpus}  workers=${c.workers}  ` +
    `duration=${formatNs(c.durationNs)}  window=${formatNs(c.windowNs)}  ${memoryText(c)}  kernel=${c.kernel}${scan}`);
  out.push(`ended: ${r.endReason ?? 'paused'} at ${formatNs(r.simulatedNs)} simulated, ${r.events} events, ${(r.host.wallMs / 1000).toFixed(2)} s on the host`);
  if (r.error) out.push(`error: ${r.error.message}`);
  out.push('');
  // A run that died before its modules reported has no figures; what it gathered is in --json.
  const figures = r.modules.reclaim || r.modules.mm ? s.figures(r) : {};
  if (Object.keys(figures).length > 0) out.push(textTable(['figure', 'value'], Object.entries(figures).map(([k, v]) => [k, String(Math.round(v * 100) / 100)])));
  out.push('');
  // The counters the model has, as /proc/vmstat names them.
  const vmstat = vmstatOf(r);
  out.push(`vmstat: ${Object.entries(vmstat).map(([k, v]) => `${k} ${v}`).join('  ')}`);
  out.push(`pressure/memory: ${formatPsi(r.psi.memory).replace('\n', '; ')}`);
  out.push(...zoneLines(r));
  out.push(`digest: ${r.digest}`);
  say.write(`${out.join('\n')}\n`);
  if (r.error) process.stderr.write(`faultline: the run ended on an error: ${r.error.message}\n`);
  if (o.json) {
    const json = { schema: JSON_SCHEMAS.scenarioRun, scenario: name, policy, figures, vmstat, result: r };
    writeOutput(o.json, JSON.stringify(json, null, 2));
  }
  if (o.html) {
    writeOutput(o.html, renderReport({
      title: `faultline run ${name} (${policy})`,
      command: `faultline run ${name} --policy ${policy} --cpus ${c.cpus} --seed ${c.seed} --duration ${formatNs(c.durationNs)} --window ${formatNs(c.windowNs)} ${machineFlags(c.memory, o)} --kernel ${c.kernel}${scan.replace('  scan-ns-per-page=', ' --scan-ns-per-page ')}`,
      table: { head: ['figure', policy], rows: Object.entries(figures).map(([k, v]) => [k, String(Math.round(v * 100) / 100)]) },
      runs: [reportRun(r, policy, figures)],
    }));
    if (o.html !== '-') say.write(`report: ${o.html}\n`);
  }
  return r;
}
