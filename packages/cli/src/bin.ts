#!/usr/bin/env node
// bin: the faultline command.
import os from 'node:os';
import { Command } from 'commander';
import { runDemo } from './commands/demo.js';
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

program.parseAsync().catch((e: unknown) => {
  process.stderr.write(`faultline: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
