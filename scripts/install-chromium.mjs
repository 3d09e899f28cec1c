#!/usr/bin/env node
// install-chromium: Debian's chromium package, for the HTML report's browser test (packages/cli/test/html-report
// .test.ts). Does nothing when Chromium is already there (FAULTLINE_CHROMIUM, else /usr/bin/chromium). Otherwise,
// as root on Debian, `apt-get install chromium` (with `apt-get update` first if the package lists are stale).
// Elsewhere it says what to do and exits 1; the bootstrap goes on, and the browser test then fails with that advice.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { aptInstall } from './lib/apt-install.mjs';

const path = process.env.FAULTLINE_CHROMIUM ?? '/usr/bin/chromium';
aptInstall({
  name: 'install-chromium',
  pkg: 'chromium',
  note: 'a few minutes the first time',
  present: () => (existsSync(path) ? spawnSync(path, ['--version'], { encoding: 'utf8' }).stdout.trim() || path : null),
  elsewhere: `no Chromium at ${path}, and this is not root on Debian; install it yourself (sudo apt-get install chromium) or set FAULTLINE_CHROMIUM to a Chromium binary`,
});
