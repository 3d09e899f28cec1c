// gfp-table: the demo's first part: what each GFP mask gets in each watermark band, both kernels side by side.
import { ALLOCATOR_BEHAVIOURS, formatDecision, gfpBandTable, type Watermarks } from '@faultline/gfp';
import { textTable } from '../text-table.js';

export function renderGfpTable(w: Watermarks): string {
  const tables = ALLOCATOR_BEHAVIOURS.map((k) => gfpBandTable(k, w));
  const bands = tables[0]!.bands;
  const short = (name: string) => name.replace(/ min/g, '').replace('..', '-');
  const header = ['mask \\ band of free pages', ...bands.map((b) => short(b.name))];
  const rows: string[][] = [['  (free pages tried)', ...bands.map((b) => String(b.freePages))]];
  tables[0]!.rows.forEach((row, i) => {
    const cells = bands.map((_, b) => {
      const [old, now] = tables.map((t) => formatDecision(t.rows[i]!.cells[b]!).replace('+k', ''));
      return old === now ? now! : `${old} / ${now}`;
    });
    rows.push([row.label, ...cells]);
  });
  return [
    `What each mask gets at each level of free memory (watermarks min ${w.minPages}, low ${w.lowPages}, high ${w.highPages} pages).`,
    `Bands: between two lines, 3/4 = three quarters of min and so on. Cells: fast = granted at LOW; slow = granted at MIN`,
    `with the caller's reserve access; emergency = reserves (PF_MEMALLOC, __GFP_MEMALLOC, OOM victim); FAIL = gives up`,
    `without reclaim; reclaim = may direct-reclaim and retry. Every mask here wakes kswapd below low. "a / b" = v5.18 / v6.3+.`,
    '',
    textTable(header, rows),
  ].join('\n');
}
