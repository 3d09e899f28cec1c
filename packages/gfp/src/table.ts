// table: what each GFP mask gets in each watermark band - the table the discussion argues over. Bands are the
// intervals between high, low, min and the reserve lines below min (3/4, 1/2, 3/8, 1/4 of min); each band is
// represented by its midpoint so no cell sits on an edge.
import type { AllocContext } from './alloc-flags.js';
import { decideAllocation, planAllocation, type AllocDecision } from './decide.js';
import type { KernelBehaviour } from './kernel.js';
import { parseGfp } from './parse.js';
import type { Watermarks } from './watermark.js';

export interface GfpTableRow {
  readonly label: string;
  readonly mask: string;
  readonly ctx?: AllocContext;
}

/** The rows the demo and the tests use: the masks of the discussion and the callers they compete with. */
export const GFP_TABLE_ROWS: readonly GfpTableRow[] = [
  { label: 'GFP_KERNEL', mask: 'GFP_KERNEL' },
  { label: 'GFP_PGTABLE_USER', mask: 'GFP_PGTABLE_USER' },
  { label: 'GFP_NOWAIT', mask: 'GFP_NOWAIT' },
  { label: 'SPF mask', mask: 'GFP_NOWAIT|__GFP_NOMEMALLOC|__GFP_NOWARN' },
  { label: 'GFP_ATOMIC', mask: 'GFP_ATOMIC' },
  { label: 'GFP_KERNEL|__GFP_HIGH', mask: 'GFP_KERNEL|__GFP_HIGH' },
  { label: 'GFP_KERNEL, realtime task', mask: 'GFP_KERNEL', ctx: { realtime: true } },
  { label: 'GFP_KERNEL, OOM victim', mask: 'GFP_KERNEL', ctx: { oomVictim: true } },
  { label: 'GFP_KERNEL, PF_MEMALLOC', mask: 'GFP_KERNEL', ctx: { pfMemalloc: true } },
  { label: 'GFP_NOWAIT|__GFP_MEMALLOC', mask: 'GFP_NOWAIT|__GFP_MEMALLOC' },
];

export interface WatermarkBand {
  readonly name: string;
  readonly freePages: number;
}

/** The bands, highest first, for a zone's watermarks. */
export function watermarkBands(w: Watermarks): WatermarkBand[] {
  const delta = w.highPages - w.lowPages;
  const lines: Array<[string, number]> = [
    ['high', w.highPages],
    ['low', w.lowPages],
    ['min', w.minPages],
    ['3/4 min', (w.minPages * 3) / 4],
    ['1/2 min', w.minPages / 2],
    ['3/8 min', (w.minPages * 3) / 8],
    ['1/4 min', w.minPages / 4],
    ['0', 0],
  ];
  const bands: WatermarkBand[] = [{ name: '> high', freePages: Math.round(w.highPages + delta / 2) }];
  for (let i = 0; i + 1 < lines.length; i++) {
    const [upper, u] = lines[i]!;
    const [lower, l] = lines[i + 1]!;
    bands.push({ name: `${lower}..${upper}`, freePages: Math.round((u + l) / 2) });
  }
  bands.push({ name: 'empty', freePages: 0 });
  return bands;
}

export interface GfpTable {
  readonly kernel: KernelBehaviour;
  readonly watermarks: Watermarks;
  readonly bands: readonly WatermarkBand[];
  readonly rows: ReadonlyArray<GfpTableRow & { readonly cells: readonly AllocDecision[] }>;
}

export function gfpBandTable(kernel: KernelBehaviour, watermarks: Watermarks, rows = GFP_TABLE_ROWS): GfpTable {
  const bands = watermarkBands(watermarks);
  return {
    kernel,
    watermarks,
    bands,
    rows: rows.map((row) => {
      const plan = planAllocation(parseGfp(row.mask, kernel).mask, 0, kernel, row.ctx ?? {});
      return { ...row, cells: bands.map((b) => decideAllocation(plan, { ...watermarks, freePages: b.freePages })) };
    }),
  };
}

/** A one-word cell: fast, slow, emergency, FAIL or reclaim; '+k' when kswapd is woken. */
export function formatDecision(d: AllocDecision): string {
  const word = d.verdict === 'granted' ? d.step! : d.verdict === 'fail' ? 'FAIL' : 'reclaim';
  return d.wakeKswapd ? `${word}+k` : word;
}
