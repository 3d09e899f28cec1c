#!/usr/bin/env node
// bin: the faultline command.
import os from 'node:os';
import { Command } from 'commander';
import { runDemo } from './commands/demo.js';
import { parseLockOption, runCommand } from './commands/run.js';
import { intOption } from './options.js';

const program = new Command();
program
  .name('faultline')
  .description('A multi-core simulator of Linux memory management: GFP semantics, watermarks, reclaim and RCU.')
  .showHelpAfterError('(run faultline --help for the commands and options)');

program
  .command('demo')
  .description('what each GFP mask gets at each watermark band (v5.18 and v6.3+), then the zone allocator driven from worker threads')
  .option('--cpus <n>', 'worker threads, one simulated CPU each (1-64)', intOption('--cpus', 1, 64), Math.min(4, Math.max(2, os.availableParallelism())))
  .option('--pages <n>', 'zone size in 4 KiB pages (1024-4194304)', intOption('--pages', 1024, 4_194_304), 16_384)
  .option('--ops <n>', 'operations per CPU (1-10000000)', intOption('--ops', 1, 10_000_000), 200_000)
  .option('--seed <s>', 'seed of every random stream', 'faultline')
  .action(async (o: { cpus: number; pages: number; ops: number; seed: string }) => {
    const result = await runDemo(o);
    process.stdout.write(`${result.text}\n`);
  });

program
  .command('run')
  .description('run a simulation of your own task actors; prints per-CPU and per-task statistics and, last, the run digest')
  .requiredOption('--task <module...>', 'task module(s) (JavaScript or TypeScript), path[#export]; one instance per CPU')
  .option('--cpus <n>', 'simulated CPUs (1-1024)', intOption('--cpus', 1, 1024), 4)
  .option('--workers <n>', 'worker threads hosting them (1-cpus; default one per CPU, up to 256; fewer than the host has cores is fastest)', intOption('--workers', 1, 1024))
  .option('--seed <s>', 'seed of every random stream', 'faultline')
  .option('--duration <t>', 'simulated time to run: ns, us, ms or s', '10ms')
  .option('--window <t>', 'window length: cross-CPU effects take effect at window ends', '20us')
  .option('--memory <MiB>', 'memory size in MiB (4-65536)', intOption('--memory', 4, 65_536), 256)
  .option('--kernel <k>', 'allocator behaviour: v5.18 or v6.3+', 'v6.3+')
  .option('--lock <name:kind>', 'declare a lock the tasks may take (kind: spinlock, mutex or rwsem); repeatable', parseLockOption)
  .option('--module <module...>', 'kernel module(s) to load in every worker, path[#export]')
  .option('--json <file>', 'also write the whole result as JSON')
  .action(async (o) => {
    const r = await runCommand(o);
    if (r.error) process.exitCode = 3;
  });

program.parseAsync().catch((e: unknown) => {
  process.stderr.write(`faultline: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
