#!/usr/bin/env node
// calibration-zoneinfo: the model's boot-time node (@faultline/zone bootNode) beside every captured boot of the real
// kernel in test/fixtures/real-kernel/, as the Markdown table CALIBRATION.md records: per zone, managed pages and
// their deviation, the watermarks, protection and pcp high/batch, model -> kernel where they differ.
// Usage (after a build): node scripts/calibration-zoneinfo.mjs
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bootNode, parseZoneinfo } from '../packages/zone/dist/index.js';

const dir = fileURLToPath(new URL('../test/fixtures/real-kernel/', import.meta.url));
const section = (text, name) => new RegExp(`=====FL_BEGIN ${name}\\n([\\s\\S]*?)=====FL_END ${name}`).exec(text)[1];
const both = (m, k) => (m === k ? String(k) : `**${m}** (${k})`);
console.log('| boot | min_free_kbytes | THP | zone | managed, model (kernel) | deviation | min / low / high | protection | pcp high / batch / threshold |');
console.log('|---|---|---|---|---|---|---|---|---|');
const files = readdirSync(dir).filter((f) => /^real-\d+[MG]-\d+\.log$/.test(f))
  .sort((a, b) => { const n = (f) => { const [, s, u, c] = /^real-(\d+)([MG])-(\d+)/.exec(f); return Number(s) * (u === 'G' ? 1024 : 1) * 100 + Number(c); }; return n(a) - n(b); });
for (const file of files) {
  const [, size, unit, cpus] = /^real-(\d+)([MG])-(\d+)\.log$/.exec(file);
  const text = readFileSync(dir + file, 'utf8').replace(/\r/g, '');
  const real = parseZoneinfo(section(text, 'zoneinfo')).filter((z) => z.present > 0);
  const minFree = Number(section(text, 'min_free_kbytes').trim());
  const thp = /\[(\w+)\]/.exec(section(text, 'thp_enabled'))[1];
  const m = bootNode({ memoryMiB: Number(size) * (unit === 'G' ? 1024 : 1), cpus: Number(cpus) });
  m.zones.forEach((z, i) => {
    const k = real[i];
    const p = k.pagesets[0];
    console.log(`| ${i === 0 ? `${size} ${unit}iB, ${cpus} CPU${cpus === '1' ? '' : 's'}` : ''} | ${i === 0 ? both(m.minFreeKbytes, minFree) : ''} | ${i === 0 ? both(m.thp, thp) : ''} | ${z.type} | ${z.managed} (${k.managed}) | ${(((z.managed - k.managed) / k.managed) * 100).toFixed(2)}% | ${both(z.minPages, k.min)} / ${both(z.lowPages, k.low)} / ${both(z.highPages, k.high)} | ${both(z.protection.join(', '), k.protection.join(', '))} | ${both(z.pcpHigh, p.high)} / ${both(z.pcpBatch, p.batch)} / ${both(z.statThreshold, p.threshold)} |`);
  });
}
