#!/usr/bin/env node
// calibration-zoneinfo: the model's boot-time node (@faultline/zone bootNode) beside every captured boot of the real
// kernel in test/fixtures/real-kernel/, as the Markdown table CALIBRATION.md records (scripts/lib/zoneinfo-compare).
// Usage (after a build): node scripts/calibration-zoneinfo.mjs
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compareBoot, ZONEINFO_TABLE_HEAD } from './lib/zoneinfo-compare.mjs';

const dir = fileURLToPath(new URL('../test/fixtures/real-kernel/', import.meta.url));
const boots = readdirSync(dir)
  .map((f) => /^real-(\d+)([MG])-(\d+)\.log$/.exec(f))
  .filter(Boolean)
  .map(([file, size, unit, cpus]) => ({
    file,
    memoryMiB: Number(size) * (unit === 'G' ? 1024 : 1),
    cpus: Number(cpus),
  }))
  .sort((a, b) => a.memoryMiB - b.memoryMiB || a.cpus - b.cpus);
console.log(ZONEINFO_TABLE_HEAD.join('\n'));
for (const b of boots)
  console.log(compareBoot(readFileSync(dir + b.file, 'utf8'), b.memoryMiB, b.cpus).rows.join('\n'));
