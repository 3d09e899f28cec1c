// sweep-grid: what a sweep is asked to cover - the --grid axes (a field of the description and its values, with
// short names for the machine's), the grid's points, and --shard's share of the runs.
import { InvalidArgumentError } from 'commander';

/** Short names a grid may use for a field. */
const ALIASES: Record<string, string> = {
  memory: 'machine.memoryMiB',
  layout: 'machine.layout',
  thp: 'machine.thp',
  hz: 'machine.hz',
  platform: 'machine.platform',
  'table-freeing': 'machine.tableFreeing',
  tableFreeing: 'machine.tableFreeing',
  'scan-ns-per-page': 'reclaim.scanNsPerPage',
  scanNsPerPage: 'reclaim.scanNsPerPage',
};

/** A swept field: its path in the description, its column in the table, its values. */
export interface Axis {
  readonly path: string;
  readonly column: string;
  readonly values: readonly string[];
}

/** A name as a tidy column: snake_case, units kept ('victim alloc p99 (us)' -> victim_alloc_p99_us). */
export function columnName(label: string): string {
  return label
    .replace(/machine\.memoryMiB/, 'memory_mib')
    .replace(/^(machine|params|reclaim)\./, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/\/s\b/g, ' per s')
    .replace(/%/g, 'pct')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '');
}

export function parseGrid(specs: readonly string[]): Axis[] {
  const axes = specs.map((g) => {
    const eq = g.indexOf('=');
    const values = g
      .slice(eq + 1)
      .split(',')
      .map((v) => v.trim())
      .filter((v) => v !== '');
    if (eq <= 0 || values.length === 0) {
      throw new InvalidArgumentError(
        `--grid ${g}: must be field=value,value,... (e.g. cpus=2,4,8 or memory=256,1024 or params.stormThreadsPerCpu=1,2,4)`,
      );
    }
    const name = g.slice(0, eq).trim();
    const path = ALIASES[name] ?? name;
    if (path === 'policy') throw new InvalidArgumentError('--grid policy=...: policies are swept with --policies');
    if (new Set(values).size !== values.length) throw new InvalidArgumentError(`--grid ${g}: a value is repeated`);
    return { path, column: columnName(path), values };
  });
  const paths = axes.map((a) => a.path);
  const twice = paths.find((p, i) => paths.indexOf(p) !== i);
  if (twice) throw new InvalidArgumentError(`--grid: ${twice} is swept twice; give its values once, comma-separated`);
  return axes;
}

/** Every point of the grid: one value per axis, the last axis varying fastest. */
export function gridPoints(axes: readonly Axis[]): Array<Record<string, string>> {
  return axes.reduce<Array<Record<string, string>>>(
    (pts, a) => pts.flatMap((p) => a.values.map((v) => ({ ...p, [a.path]: v }))),
    [{}],
  );
}

/** `--shard k/n`, k from 1 to n. */
export function parseShard(s: string): { k: number; n: number } {
  const m = /^(\d+)\/(\d+)$/.exec(s.trim());
  const k = Number(m?.[1]);
  const n = Number(m?.[2]);
  if (!m || n < 1 || k < 1 || k > n) {
    throw new InvalidArgumentError(`--shard ${s}: must be k/n with 1 <= k <= n, e.g. 2/8 (the second of eight shares)`);
  }
  return { k, n };
}
