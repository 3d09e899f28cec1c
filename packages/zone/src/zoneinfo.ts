// zoneinfo: /proc/zoneinfo, both ways. formatZoneinfo prints a booted node (boot.ts) in the kernel's format, with
// the fields the model has, so that a user can diff it against their own machine's; parseZoneinfo reads the kernel's
// file (or that output) back into numbers, zone by zone; captureSection reads one file out of a calibration capture
// (a guest's console, each file between =====FL_BEGIN name and =====FL_END name lines).
import type { BootNode } from './boot.js';

const ALL_ZONES = ['DMA', 'DMA32', 'Normal', 'Movable', 'Device'] as const;

export interface ZoneinfoZone {
  readonly zone: string;
  readonly free: number;
  readonly min: number;
  readonly low: number;
  readonly high: number;
  readonly spanned: number;
  readonly present: number;
  readonly managed: number;
  readonly protection: readonly number[];
  /** Per CPU, in CPU order. */
  readonly pagesets: ReadonlyArray<{
    readonly cpu: number;
    readonly high: number;
    readonly batch: number;
    readonly threshold: number;
  }>;
  readonly startPfn: number | null;
}

/** The node at boot in /proc/zoneinfo's format (a freshly booted zone's free pages are taken as its managed ones). */
export function formatZoneinfo(n: BootNode): string {
  const out: string[] = [];
  const row = (name: string, v: number) => out.push(`        ${name.padEnd(8)} ${v}`);
  for (const type of ALL_ZONES) {
    const z = n.zones.find((x) => x.type === type);
    out.push(`Node 0, zone ${type.padStart(8)}`);
    out.push(`  pages free     ${z?.managed ?? 0}`);
    row('boost', 0);
    row('min', z?.minPages ?? 0);
    row('low', z?.lowPages ?? 0);
    row('high', z?.highPages ?? 0);
    row('spanned', z?.spanned ?? 0);
    row('present', z?.present ?? 0);
    row('managed', z?.managed ?? 0);
    row('cma', 0);
    out.push(`        protection: (${(z?.protection ?? [0, 0, 0, 0, 0]).join(', ')})`);
    if (z === undefined) continue;
    out.push('  pagesets');
    for (let c = 0; c < n.cpus; c++) {
      out.push(`    cpu: ${c}`);
      out.push('              count: 0');
      out.push(`              high:  ${z.pcpHigh}`);
      out.push(`              batch: ${z.pcpBatch}`);
      out.push(`  vm stats threshold: ${z.statThreshold}`);
    }
    out.push('  node_unreclaimable:  0');
    out.push(`  start_pfn:           ${z.startPfn}`);
  }
  return out.join('\n');
}

/** Every zone of a /proc/zoneinfo text, in order, populated or not. */
export function parseZoneinfo(text: string): ZoneinfoZone[] {
  const zones: ZoneinfoZone[] = [];
  let cur: { -readonly [K in keyof ZoneinfoZone]: ZoneinfoZone[K] } | null = null;
  let cpu: { cpu: number; high: number; batch: number; threshold: number } | null = null;
  const num = (line: string) => Number(line.trim().split(/\s+/).at(-1));
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    const zm = /^Node \d+, zone\s+(\S+)/.exec(line);
    if (zm) {
      cur = {
        zone: zm[1]!,
        free: 0,
        min: 0,
        low: 0,
        high: 0,
        spanned: 0,
        present: 0,
        managed: 0,
        protection: [],
        pagesets: [],
        startPfn: null,
      };
      zones.push(cur);
      cpu = null;
      continue;
    }
    if (cur === null) continue;
    const t = line.trim();
    if (t.startsWith('pages free')) cur.free = num(t);
    else if (/^(min|low|high|spanned|present|managed)\s+\d+$/.test(t) && cpu === null) {
      const [k, v] = t.split(/\s+/) as [keyof ZoneinfoZone, string];
      (cur as Record<string, unknown>)[k] = Number(v);
    } else if (t.startsWith('protection:'))
      cur.protection = t
        .replace(/^protection:\s*\(|\)$/g, '')
        .split(',')
        .map((x) => Number(x.trim()));
    else if (t.startsWith('cpu:')) {
      cpu = { cpu: num(t), high: 0, batch: 0, threshold: 0 };
      (cur.pagesets as Array<typeof cpu>).push(cpu);
    } else if (cpu !== null && t.startsWith('high:')) cpu.high = num(t);
    else if (cpu !== null && t.startsWith('batch:')) cpu.batch = num(t);
    else if (cpu !== null && t.startsWith('vm stats threshold:')) cpu.threshold = num(t);
    else if (t.startsWith('start_pfn:')) cur.startPfn = num(t);
  }
  return zones;
}

/** One file of a calibration capture, or null when the capture has none by that name. CRLF (a serial console's)
 * is read as LF. */
export function captureSection(capture: string, name: string): string | null {
  const text = capture.replace(/\r/g, '');
  const begin = `=====FL_BEGIN ${name}\n`;
  const i = text.indexOf(begin);
  if (i < 0) return null;
  const j = text.indexOf(`=====FL_END ${name}`, i + begin.length);
  return j < 0 ? null : text.slice(i + begin.length, j);
}
