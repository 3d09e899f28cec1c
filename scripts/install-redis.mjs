#!/usr/bin/env node
// install-redis: Debian's redis-server package, for the job queue's test (packages/cli/test/queue.test.ts: a
// real Redis on a local port). Does nothing when redis-server is there (FAULTLINE_REDIS, else /usr/bin/redis-server).
// Otherwise, as root on Debian, `apt-get install redis-server` (`apt-get update` first if the lists are stale).
// Elsewhere it says what to do and exits 1; the bootstrap goes on, and the queue test then fails with that advice.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { aptInstall } from './lib/apt-install.mjs';

const path = process.env.FAULTLINE_REDIS ?? '/usr/bin/redis-server';
aptInstall({
  name: 'install-redis',
  pkg: 'redis-server',
  present: () => (existsSync(path) ? spawnSync(path, ['--version'], { encoding: 'utf8' }).stdout.trim() || path : null),
  elsewhere: `no redis-server at ${path}, and this is not root on Debian; install it yourself (sudo apt-get install redis-server) or set FAULTLINE_REDIS to a redis-server binary`,
});
