#!/usr/bin/env node
// bin: the faultline command.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { Command, Option } from 'commander';
import { InvalidArgumentError } from 'commander';
import { RESOLVE_FROM_ENV, WINDOW_DEFAULT } from '@faultline/engine';
import {
  collectOption,
  durationOption,
  floatOption,
  parseLockOption,
  watchdogOption,
  intOption,
  kernelOption,
  ratioOption,
  thpOption,
  writeOutput,
} from './options.js';
import { EXIT, endLine, exitCodeOf } from './supervise.js';
import { addMachineOptions } from './machine-options.js';

// Each command's module is imported when the command runs, so that `--version`, `--help` and bad input answer
// without loading the simulator, the reports or the queue client.
const commands = {
  demo: () => import('./commands/demo.js'),
  list: () => import('./commands/list.js'),
  scenario: () => import('./commands/scenario.js'),
  zoneinfo: () => import('./commands/zoneinfo.js'),
  run: () => import('./commands/run.js'),
  scenarioRun: () => import('./commands/scenario-run.js'),
  compare: () => import('./commands/compare.js'),
  sweep: () => import('./commands/sweep.js'),
  hunt: () => import('./commands/hunt.js'),
  worker: () => import('./commands/worker.js'),
};

// Task, policy and kernel modules anywhere on disk may import @faultline/*: they resolve from this package and from
// @faultline/scenarios, which between them depend on every package (the engine's resolve hook reads this).
process.env[RESOLVE_FROM_ENV] = [import.meta.url, import.meta.resolve('@faultline/scenarios')].join(',');

// Output piped into a reader that stops early (| head): stop quietly, as a Unix command does.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

/** This package's version, from its package.json. */
function cliVersion(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

const program = new Command();
program
  .name('faultline')
  .version(cliVersion(), '--version', 'print the version of faultline')
  .description('A multi-core simulator of Linux memory management: GFP semantics, watermarks, reclaim and RCU.')
  .showHelpAfterError('(run faultline --help for the commands and options)');

program
  .command('demo')
  .description(
    'what each GFP mask gets at each watermark band (v5.18 and v6.3+), then the zone allocator driven from worker threads',
  )
  .option(
    '--cpus <n>',
    'worker threads, one simulated CPU each (1-64)',
    intOption('--cpus', 1, 64),
    Math.min(4, Math.max(2, os.availableParallelism())),
  )
  .option('--pages <n>', 'zone size in 4 KiB pages (1024-4194304)', intOption('--pages', 1024, 4_194_304), 16_384)
  .option('--ops <n>', 'operations per CPU (1-10000000)', intOption('--ops', 1, 10_000_000), 200_000)
  .option('--seed <s>', 'seed of every random stream', 'faultline')
  .action(async (o: { cpus: number; pages: number; ops: number; seed: string }) => {
    const result = await (await commands.demo()).runDemo(o);
    process.stdout.write(`${result.text}\n`);
  });

program
  .command('list')
  .description('the built-in scenarios and the fault policies')
  .action(async () => {
    process.stdout.write(`${(await commands.list()).renderList()}\n`);
  });

/** The options of many runs at once (compare, sweep): the runs' shape, the machine, and the pool's size. */
function addBatchOptions(c: Command): Command {
  return addMachineOptions(
    c
      .option('--cpus <n>', 'simulated CPUs (1-1024)', intOption('--cpus', 1, 1024))
      .option('--duration <t>', 'simulated time per run', durationOption('--duration'))
      .option('--window <t>', `window length (default ${WINDOW_DEFAULT})`, durationOption('--window'))
      .option(
        '--kernel <k>',
        'kernel: v5.18, v6.4 (per-VMA locks for anonymous VMAs only) or v6.3+ (default)',
        kernelOption,
      )
      .option(
        '--scan-ns-per-page <ns>',
        "reclaim's CPU time per page wanted (default 200, calibrated: CALIBRATION.md)",
        intOption('--scan-ns-per-page', 0, 1_000_000),
      )
      .option('--threads <n>', 'runs at a time (default: host cores)', intOption('--threads', 1, 256))
      .option(
        '--watchdog <t>',
        'host time a window may take before a run is ended as hung (default 30s; 0: never)',
        watchdogOption,
      ),
  );
}

const SET_HELP =
  "set one field of the scenario's description, path=value (cpus=8, machine.memoryMiB=1024, " +
  'params.stormThreadsPerCpu=4; see faultline scenario show); repeatable, applied last';
const scenarioCmd = program
  .command('scenario')
  .description('scenarios as data: show one resolved, or print the JSON Schema of scenario files');
scenarioCmd
  .command('show <scenario>')
  .description('the scenario (a built-in name or a file) resolved with its --sets, as YAML: a file to edit and run')
  .option('--set <path=value>', SET_HELP, collectOption, [])
  .action(async (ref: string, o: { set: string[] }) => {
    process.stdout.write((await commands.scenario()).scenarioShowCommand(ref, o.set));
  });
scenarioCmd
  .command('schema')
  .description('the JSON Schema of scenario files (faultline.scenario/1)')
  .action(async () => {
    process.stdout.write(`${(await commands.scenario()).scenarioSchemaText()}\n`);
  });

program
  .command('zoneinfo')
  .description(
    "the model's boot-time /proc/zoneinfo for a machine of this size, in the kernel's format (diff it against your own)",
  )
  .requiredOption('--memory <MiB>', 'memory size in MiB (128-65536)', intOption('--memory', 128, 65_536))
  .requiredOption('--cpus <n>', 'CPUs (1-1024)', intOption('--cpus', 1, 1024))
  .option(
    '--thp <mode>',
    'transparent hugepages: never, madvise or always (default: as the kernel picks for the size)',
    thpOption,
  )
  .option(
    '--min-free-kbytes <kB>',
    'vm.min_free_kbytes as a user writes it (default: the kernel computes it)',
    intOption('--min-free-kbytes', 0, 2 ** 31 - 1),
  )
  .option(
    '--watermark-scale-factor <n>',
    'vm.watermark_scale_factor (1-3000; default 10)',
    intOption('--watermark-scale-factor', 1, 3000),
  )
  .option(
    '--watermark-boost-factor <n>',
    'vm.watermark_boost_factor (default 15000)',
    intOption('--watermark-boost-factor', 0, 2 ** 31 - 1),
  )
  .option(
    '--lowmem-reserve-ratio <a,b,c>',
    'vm.lowmem_reserve_ratio for DMA, DMA32, Normal (default 256,256,32)',
    ratioOption,
  )
  .option(
    '--percpu-pagelist-high-fraction <n>',
    'vm.percpu_pagelist_high_fraction (0, or 8 and up; default 0)',
    intOption('--percpu-pagelist-high-fraction', 0, 2 ** 31 - 1),
  )
  .action(async (o) => {
    process.stdout.write(`${(await commands.zoneinfo()).zoneinfoCommand(o)}\n`);
  });

addMachineOptions(
  program
    .command('run [scenario]')
    .description(
      'run a scenario (a built-in name, see faultline list, or a scenario file), or your own task actors with --task; prints the figures or per-CPU and per-task statistics and, last, the run digest',
    )
    .option('--set <path=value>', SET_HELP, collectOption)
    .option('--task <module...>', 'task module(s) (JavaScript or TypeScript), path[#export]; one instance per CPU')
    .option('--policy <p>', 'fault policy for a scenario (see faultline list)')
    .option('--cpus <n>', 'simulated CPUs (1-1024)', intOption('--cpus', 1, 1024))
    .option(
      '--workers <n>',
      'worker threads hosting them (1-cpus; default one per 64 CPUs on the host cores but one: BENCHMARKS.md, ' +
        'Workers); at most the cores other processes leave free, unless --no-follow-load',
      intOption('--workers', 1, 1024),
    )
    .option(
      '--no-follow-load',
      'start the --workers asked even when other threads keep the host cores busy (by default a run starts no more ' +
        'workers than the host has cores free at its start; the results are the same)',
    )
    .option('--seed <s>', 'seed of every random stream', 'faultline')
    .option(
      '--watchdog <t>',
      'host time a window may take before the run is ended as hung, naming the CPU and task (default 30s; 0: never)',
      watchdogOption,
    )
    .option('--duration <t>', 'simulated time to run: ns, us, ms or s', durationOption('--duration'))
    .option(
      '--window <t>',
      `window length: other CPUs see shared state up to one window late (default ${WINDOW_DEFAULT})`,
      durationOption('--window'),
    )
    .option(
      '--kernel <k>',
      'kernel: v5.18, v6.4 (per-VMA locks for anonymous VMAs only) or v6.3+ (default)',
      kernelOption,
    )
    .option(
      '--scan-ns-per-page <ns>',
      "with a scenario: reclaim's CPU time per page wanted (default 200, calibrated: CALIBRATION.md)",
      intOption('--scan-ns-per-page', 0, 1_000_000),
    )
    .option(
      '--lock <name:kind>',
      'with --task: declare a lock the tasks may take (kind: spinlock, mutex or rwsem) or a shared line they update ' +
        '(line: ctx.atomic); repeatable',
      parseLockOption,
    )
    .option('--module <module...>', 'with --task: kernel module(s) to load in every worker, path[#export]')
    .option(
      '--trace <file>',
      "also write a Perfetto trace (open it in ui.perfetto.dev): CPU and task tracks, the kernel's tracepoints, free pages against the watermarks",
    )
    .option('--json <file>', 'also write the whole result as JSON')
    .option('--html <file>', 'also write a self-contained HTML report (charts; opens offline)'),
).action(async (scenario: string | undefined, o) => {
  const { ALL_SCENARIOS: SCENARIOS } = await import('@faultline/scenarios');
  if (scenario !== undefined && o.task)
    throw new InvalidArgumentError(
      `give a scenario or --task, not both (scenarios: ${SCENARIOS.map((x) => x.name).join(', ')})`,
    );
  if (scenario === undefined && !o.task)
    throw new InvalidArgumentError(`give a scenario (${SCENARIOS.map((x) => x.name).join(', ')}) or --task <module>`);
  // An option is honoured or refused, never dropped.
  const notFor = (what: string, names: string[]) => {
    const given = names.filter((n) => o[n] !== undefined);
    const flag = (n: string) => `--${n.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    if (given.length > 0)
      throw new InvalidArgumentError(
        `${given.map(flag).join(', ')} ${given.length > 1 ? 'do' : 'does'} not apply to ${what}`,
      );
  };
  if (scenario !== undefined)
    notFor(`a scenario run (a scenario declares its own locks and modules; use --task for yours)`, ['lock', 'module']);
  else
    notFor(
      "a run of your own tasks (--policy, --scan-ns-per-page and --set set a scenario's; pass module args yourself)",
      ['policy', 'scanNsPerPage', 'set'],
    );
  const r =
    scenario !== undefined
      ? await (await commands.scenarioRun()).scenarioRunCommand(scenario, o)
      : await (await commands.run()).runCommand({
          ...o,
          cpus: o.cpus ?? 4,
          duration: o.duration ?? '10ms',
          window: o.window ?? WINDOW_DEFAULT,
          kernel: o.kernel ?? 'v6.3+',
        });
  process.exitCode = exitCodeOf(r);
  const why = endLine(r);
  if (why) process.stderr.write(`${why}\n`);
});

addBatchOptions(
  program
    .command('compare <scenario>')
    .description(
      'run a scenario (a built-in name or a scenario file) under several policies and seeds in parallel (piscina); a table of each figure with its 95% confidence interval',
    )
    .option('--set <path=value>', SET_HELP, collectOption, [])
    .option(
      '--policies <list>',
      "comma-separated fault policies (default: all of the scenario's: mm's, or its own when it has them)",
    )
    .option('--seeds <k>', 'seeds per policy (1-100)', intOption('--seeds', 1, 100), 3)
    .option('--seed <s>', 'base seed: runs use <seed>-1 .. <seed>-k', 'faultline')
    .option(
      '--baseline <policy>',
      "the policy the others are compared with, in percent with Welch's t-test (default: the first)",
    )
    .option('--json <file>', "also write every run's figures as JSON")
    .option('--html <file>', 'also write a self-contained HTML report of the comparison (charts; opens offline)'),
).action(async (scenario: string, o) => {
  const { compareCommand, comparisonJson } = await commands.compare();
  const c = await compareCommand(scenario, o);
  if (o.json) writeOutput(o.json, comparisonJson(c));
  process.exitCode = c.interrupted ? EXIT.interrupted : c.outcomes.some((x) => x.error) ? EXIT.taskError : EXIT.ok;
});

addBatchOptions(
  program
    .command('sweep <scenario>')
    .description(
      'run a scenario over a grid of its fields x policies x seeds on a local pool, resumable; a tidy table (CSV, JSON) and an HTML report of each figure against each swept field',
    )
    .option(
      '--grid <field=a,b,...>',
      'a swept field and its values (cpus=2,4,8; memory=256,1024; params.stormThreadsPerCpu=1,2); repeatable: the grid is every combination',
      collectOption,
      [],
    )
    .option(
      '--policies <list>',
      'comma-separated fault policies (default: classic,spf-nowait,spf-nowait-literal,spf-fallback; ' +
        "a scenario's own when it has them)",
    )
    .option('--baseline <policy>', 'the policy the others are compared with (default: the first)')
    .option('--seeds <k>', 'seeds per point and policy (1-100)', intOption('--seeds', 1, 100), 3)
    .option('--seed <s>', 'base seed: runs use <seed>-1 .. <seed>-k', 'faultline')
    .option(
      '--out <dir>',
      'folder for the results: runs/<key>.json, sweep.csv, sweep.json, sweep.html (a sweep started again with it resumes)',
    )
    .option(
      '--queue <url>',
      'run on a job queue (BullMQ on Redis: redis://host:port/name, rediss:// for TLS); faultline worker takes the runs',
    )
    .option(
      '--shard <k/n>',
      'run only the k-th of n shares of the runs (a Kubernetes Indexed Job, a Slurm array); merge the folders after',
    )
    .option('--merge <dir...>', 'complete this sweep from the stored runs of other folders (shards); computes nothing')
    .option('--figures <list>', 'only these figures in the printed tables (labels or column names; the files have all)')
    .option('--set <path=value>', SET_HELP, collectOption, [])
    .option('--policy <p>', 'refused: a sweep takes --policies'),
).action(async (scenario: string, o) => {
  if (o.policy !== undefined)
    throw new InvalidArgumentError('--policy does not apply to a sweep; give --policies a,b,...');
  const s = await (await commands.sweep()).sweepCommand(scenario, o);
  process.exitCode = s.interrupted
    ? EXIT.interrupted
    : s.crashed.length > 0 || s.missing > 0 || s.runs.some((r) => r.error)
      ? EXIT.taskError
      : EXIT.ok;
});

addBatchOptions(
  program
    .command('hunt <scenario>')
    .description(
      'search a scenario for the worst a run can show (--maximize FIGURE|EXPR) or for a run that fails (--until), ' +
        'over its params, seeds, CPU and worker counts; shrinks the find and prints a line that replays it; resumable',
    )
    .option(
      '--maximize <figure>',
      "the figure to drive up under the first of --policies ('victim reclaim stall (ms)'), or an expression of " +
        "figures in braces, another policy's after @ ('{victim reclaim stall (ms)} / {victim reclaim stall (ms) @ classic}')",
    )
    .option('--against <policy>', "with --maximize: drive up the figure's excess over this policy's on the same seed")
    .option(
      '--until <predicate>',
      "find a run that meets it: 'error', 'FIGURE OP N' ('victim failures > 0'), or an expression of figures in " +
        "braces ('error || {OOM kills of others} > 0')",
    )
    .option('--policies <list>', "the policies each candidate runs under (default: the scenario's policy)")
    .option('--budget <n>', 'candidates to try (1-100000)', intOption('--budget', 1, 100_000), 40)
    .option(
      '--shrink-budget <n>',
      'more candidates for shrinking a find (0-100000)',
      intOption('--shrink-budget', 0, 100_000),
      30,
    )
    .option(
      '--seeds <k>',
      'the seeds searched: <seed>-1 .. <seed>-k (1-1000000)',
      intOption('--seeds', 1, 1_000_000),
      1000,
    )
    .option('--seed <s>', 'base seed of the runs', 'hunt')
    .option('--search-seed <s>', "the search's own seed (which candidates it tries)", 'faultline')
    .option('--vary <params>', 'comma-separated params to vary (default: every number, boolean and enum param)')
    .option('--range <path=lo..hi>', "a numeric param's range (default: within 8x of its value)", collectOption, [])
    .option('--values <path=a,b,...>', "a param's values to try (a GFP mask's, say)", collectOption, [])
    .option('--cpus-list <list>', 'with --until: the CPU counts to try (default: --cpus)')
    .option('--workers-list <list>', 'with --until: the worker counts to try (default 1)')
    .option(
      '--keep <f>',
      "with --maximize: shrinking keeps this fraction of the find's excess (0-1)",
      floatOption('--keep', 0, 1),
      0.9,
    )
    .option(
      '--out <dir>',
      'folder for the runs (runs/<key>.json), hunt.json and hunt.csv (a hunt run again with it resumes)',
    )
    .addOption(
      new Option(
        '--strategy <s>',
        'with --maximize: half the budget at random, then a walk around the best (refine), or all at random',
      )
        .choices(['refine', 'random'])
        .default('refine'),
    )
    .option(
      '--queue <url>',
      "run the candidates on a job queue, taken by 'faultline worker's: redis://[user:password@]host:port/name",
    )
    .option('--set <path=value>', SET_HELP, collectOption, []),
).action(async (scenario: string, o) => {
  const h = await (await commands.hunt()).huntCommand(scenario, o);
  process.exitCode = h.interrupted ? EXIT.interrupted : EXIT.ok;
});

program
  .command('worker')
  .description(
    "take a sweep's queued runs (sweep --queue) and run them, each in a sandboxed worker thread, until Ctrl-C",
  )
  .requiredOption('--queue <url>', 'the queue: redis://[user:password@]host:port/name, or rediss:// for TLS')
  .option('--concurrency <n>', 'runs at a time (default: host cores)', intOption('--concurrency', 1, 256))
  .action(async (o: { queue: string; concurrency?: number }) => {
    await (await commands.worker()).workerCommand(o);
  });

program.parseAsync().catch((e: unknown) => {
  process.stderr.write(`faultline: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = e instanceof Error && e.name === 'QueueUnreachable' ? EXIT.queueUnreachable : EXIT.badInput;
  // A queue client that never connected may hold the event loop open with its retries.
  if (process.exitCode === EXIT.queueUnreachable) setImmediate(() => process.exit(EXIT.queueUnreachable));
});
