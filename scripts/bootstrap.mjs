#!/usr/bin/env node
// bootstrap: the one entry point the README's commands call. It needs only Node 20 and npm.
// It installs the pinned pnpm into .tools/ (no global install, no corepack), installs the workspace from the
// lockfile, builds every package with turbo, then runs the requested job:
//   demo  - the project's main job: the flagship comparison, `faultline compare nowait-starvation`, with its HTML
//           report in faultline-report.html (extra arguments go to compare)
//   test  - Biome's format and lint check, then the whole vitest suite (every package and the cross-package suites in test/), after installing
//           Debian's Chromium for the HTML report's browser test if it is missing (scripts/install-chromium.mjs)
//   bench - the benchmarks, printing their figures beside the hardware limits measured in the same run
//   calibrate - boots Debian's kernel in QEMU at a set of sizes and compares it with the model
//           (scripts/calibrate.mjs; installs qemu-system-x86, linux-image-amd64 and busybox-static when missing)
//   oracle - the question asked of the real kernel: the kernel-storm workload in Debian's 6.1 and 6.12 under QEMU
//           and in the model at the guest's paces, side by side (scripts/oracle.mjs; installs what it needs)
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const jobs = ['demo', 'test', 'bench', 'calibrate', 'oracle'];
const [job, ...rest] = process.argv.slice(2);
if (!jobs.includes(job)) {
  console.error(`bootstrap: unknown job '${job ?? ''}'; allowed: ${jobs.join(', ')}`);
  process.exit(2);
}

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const pnpmVersion = pkg.packageManager.replace(/^pnpm@/, '');
const toolsDir = join(root, '.tools');
const binDir = join(root, 'node_modules', '.bin');
const pnpmBin = join(toolsDir, 'node_modules', '.bin', 'pnpm');
const env = {
  ...process.env,
  PATH: `${join(toolsDir, 'node_modules', '.bin')}:${binDir}:${process.env.PATH}`,
  TURBO_TELEMETRY_DISABLED: '1',
  DO_NOT_TRACK: '1',
  COREPACK_ENABLE_STRICT: '0',
};

function step(title, cmd, args) {
  console.error(`\n> ${title}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, env, stdio: 'inherit' });
  if (r.error) {
    console.error(`bootstrap: could not start ${cmd}: ${r.error.message}`);
    process.exit(1);
  }
  if (r.status !== 0) {
    console.error(`bootstrap: '${title}' failed with exit code ${r.status}`);
    process.exit(r.status ?? 1);
  }
}

function installedPnpmVersion() {
  if (!existsSync(pnpmBin)) return null;
  try {
    return JSON.parse(readFileSync(join(toolsDir, 'node_modules', 'pnpm', 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

if (installedPnpmVersion() !== pnpmVersion) {
  step(`install pnpm ${pnpmVersion} into .tools/`, 'npm', [
    'install',
    '--prefix',
    toolsDir,
    '--no-save',
    '--no-package-lock',
    '--no-audit',
    '--no-fund',
    `pnpm@${pnpmVersion}`,
  ]);
}
step('install the workspace', pnpmBin, ['install', '--frozen-lockfile', '--config.confirmModulesPurge=false']);
step('build every package', pnpmBin, ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only']);

if (job === 'demo') {
  step('faultline compare nowait-starvation', 'node', [
    join(root, 'packages/cli/dist/bin.js'),
    'compare',
    'nowait-starvation',
    '--html',
    'faultline-report.html',
    ...rest,
  ]);
}
if (job === 'test') {
  // The house style first: Biome's formatter and linter over the tree (biome.json), as CI runs them.
  step('format and lint (biome ci)', pnpmBin, ['exec', 'biome', 'ci', '.']);
  // The HTML report's test opens it in Debian's Chromium; without it that one test fails and says how to get it.
  const r = spawnSync('node', [join(root, 'scripts/install-chromium.mjs')], { cwd: root, env, stdio: 'inherit' });
  if (r.status !== 0) console.error('bootstrap: Chromium is missing; the browser test will fail (see above)');
  // The job queue's test runs a real Redis on a local port; without it that test fails and says how to get it.
  const redis = spawnSync('node', [join(root, 'scripts/install-redis.mjs')], { cwd: root, env, stdio: 'inherit' });
  if (redis.status !== 0) console.error('bootstrap: redis-server is missing; the queue test will fail (see above)');
  step('the test suite', pnpmBin, ['exec', 'vitest', 'run', ...rest]);
}
if (job === 'bench') {
  // The performance summary compares the engine with SimPy 2.3 (Debian's python3-simpy) when it can be had.
  const simpy = spawnSync('node', [join(root, 'scripts/install-simpy.mjs')], { cwd: root, env, stdio: 'inherit' });
  if (simpy.status !== 0) console.error('bootstrap: SimPy is missing; the benchmark leaves its ratio out (see above)');
  step('benchmarks', 'node', [join(root, 'scripts/bench.mjs'), ...rest]);
}
if (job === 'calibrate')
  step('calibration against the real kernel', 'node', [join(root, 'scripts/calibrate.mjs'), ...rest]);
if (job === 'oracle')
  step('the question asked of the real kernel', 'node', [join(root, 'scripts/oracle.mjs'), ...rest]);
