#!/usr/bin/env node
// install-redis: Debian's redis-server package, for the job queue's test (packages/cli/test/queue.test.ts: a
// real Redis on a local port). Does nothing when redis-server is there (FAULTLINE_REDIS, else /usr/bin/redis-server).
// Otherwise, as root on Debian, `apt-get install redis-server` (`apt-get update` first if the lists are stale).
// Elsewhere it says what to do and exits 1; the bootstrap goes on, and the queue test then fails with that advice.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const path = process.env.FAULTLINE_REDIS ?? '/usr/bin/redis-server';
const version = () => spawnSync(path, ['--version'], { encoding: 'utf8' }).stdout.trim();

if (existsSync(path)) {
  console.error(`install-redis: ${version() || path} is there`);
  process.exit(0);
}
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
if (!isRoot || !hasApt) {
  console.error(
    `install-redis: no redis-server at ${path}, and this is not root on Debian; install it yourself (sudo apt-get install redis-server) or set FAULTLINE_REDIS to a redis-server binary`,
  );
  process.exit(1);
}
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
const apt = (...args) => spawnSync('apt-get', args, { env, stdio: ['ignore', 'ignore', 'inherit'] }).status === 0;
console.error('install-redis: apt-get install redis-server (Debian package)');
if (!apt('install', '-y', 'redis-server')) {
  apt('update');
  if (!apt('install', '-y', 'redis-server')) {
    console.error('install-redis: apt-get could not install redis-server');
    process.exit(1);
  }
}
console.error(`install-redis: ${version()}`);
