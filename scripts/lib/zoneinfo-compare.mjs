// zoneinfo-compare: one boot of the real kernel (a calibration capture) beside the model's boot-time node for the same
// size and CPUs, as Markdown table rows: the model's value, and the kernel's in brackets where it differs (in bold).
// Used by scripts/calibration-zoneinfo.mjs (the committed captures) and scripts/calibrate.mjs (live boots).
import { bootNode, captureSection, parseZoneinfo } from '../../packages/zone/dist/index.js';

export const ZONEINFO_TABLE_HEAD = [
  '| boot | min_free_kbytes | THP | zone | managed, model (kernel) | deviation | min / low / high | protection | pcp high / batch / threshold |',
  '|---|---|---|---|---|---|---|---|---|',
];

function section(capture, name) {
  const s = captureSection(capture, name);
  if (s === null) throw new Error(`the capture has no ${name}`);
  return s;
}

/** Rows for the table, and how far apart model and kernel are. */
export function compareBoot(capture, memoryMiB, cpus) {
  const real = parseZoneinfo(section(capture, 'zoneinfo')).filter((z) => z.present > 0);
  const minFree = Number(section(capture, 'min_free_kbytes').trim());
  const thp = /\[(\w+)\]/.exec(section(capture, 'thp_enabled'))[1];
  const m = bootNode({ memoryMiB, cpus });
  let fields = 0;
  let fieldsEqual = 0;
  const both = (a, b) => {
    fields++;
    if (a === b) fieldsEqual++;
    return a === b ? String(b) : `**${a}** (${b})`;
  };
  let worstManaged = 0;
  const label = `${memoryMiB >= 1024 ? `${memoryMiB / 1024} GiB` : `${memoryMiB} MiB`}, ${cpus} CPU${cpus === 1 ? '' : 's'}`;
  const rows = m.zones.map((z, i) => {
    const k = real[i];
    if (!k) return `| ${i === 0 ? label : ''} | | | ${z.type} | ${z.managed} (no such zone) | | | | |`;
    const p = k.pagesets[0];
    const dev = (z.managed - k.managed) / k.managed;
    worstManaged = Math.max(worstManaged, Math.abs(dev));
    return (
      `| ${i === 0 ? label : ''} | ${i === 0 ? both(m.minFreeKbytes, minFree) : ''} | ${i === 0 ? both(m.thp, thp) : ''} | ${z.type} | ` +
      `${z.managed} (${k.managed}) | ${(dev * 100).toFixed(2)}% | ${both(z.minPages, k.min)} / ${both(z.lowPages, k.low)} / ${both(z.highPages, k.high)} | ` +
      `${both(z.protection.join(', '), k.protection.join(', '))} | ${both(z.pcpHigh, p.high)} / ${both(z.pcpBatch, p.batch)} / ${both(z.statThreshold, p.threshold)} |`
    );
  });
  return { rows, fields, fieldsEqual, worstManaged, zones: [m.zones.length, real.length] };
}
