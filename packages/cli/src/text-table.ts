// text-table: fixed-width tables for the terminal. The first column and any column of words are left-aligned;
// columns of figures (numbers, intervals, differences) are right-aligned, so that their digits line up.

/** A cell of figures: it starts with a digit (a count, a time, an interval and its difference), or says none. */
const isFigure = (c: string) => /^[-+]?\d/.test(c) || c === '' || c === '-' || c === '=';

export function textTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const words = header.map((_, i) => i === 0 || rows.some((r) => !isFigure((r[i] ?? '').trim())));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (words[i] ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
