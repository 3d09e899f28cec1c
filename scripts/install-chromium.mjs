#!/usr/bin/env node
// install-chromium: Debian's chromium package, for the HTML report's browser test (packages/cli/test/html-report
// .test.ts). Does nothing when Chromium is already there (FAULTLINE_CHROMIUM, else /usr/bin/chromium). Otherwise,
// as root on Debian, `apt-get install chromium` (with `apt-get update` first if the package lists are stale).
// Elsewhere it says what to do and exits 1; the bootstrap goes on, and the browser test then fails with that advice.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const path = process.env.FAULTLINE_CHROMIUM ?? '/usr/bin/chromium';
const version = () => spawnSync(path, ['--version'], { encoding: 'utf8' }).stdout.trim();

if (existsSync(path)) {
  console.error(`install-chromium: ${version() || path} is there`);
  process.exit(0);
}
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
if (!isRoot || !hasApt) {
  console.error(
    `install-chromium: no Chromium at ${path}, and this is not root on Debian; install it yourself (sudo apt-get install chromium) or set FAULTLINE_CHROMIUM to a Chromium binary`,
  );
  process.exit(1);
}
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
const apt = (...args) => spawnSync('apt-get', args, { env, stdio: ['ignore', 'ignore', 'inherit'] }).status === 0;
console.error('install-chromium: apt-get install chromium (Debian package; a few minutes the first time)');
if (!apt('install', '-y', 'chromium')) {
  apt('update');
  if (!apt('install', '-y', 'chromium')) {
    console.error('install-chromium: apt-get could not install chromium');
    process.exit(1);
  }
}
console.error(`install-chromium: ${version()}`);
