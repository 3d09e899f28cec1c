// hunt-space: what `faultline hunt` searches over, as fast-check arbitraries: each varied field a grid of values
// with its default at the centre (a scenario's number: log-spaced within a factor of 8 of the default, inside its
// declared bounds; a boolean: both; an enum: its values; any field: the values --values gives), the run's seed
// (which also draws the storm threads' phase), and the CPU and worker counts. Each arbitrary shrinks towards the
// default, the first seed, the fewest CPUs and one worker, so a failure fast-check shrinks is the smallest it keeps.
import fc from 'fast-check';
import { InvalidArgumentError } from 'commander';
import type { ParamSpec } from '@faultline/scenarios';

export type Value = number | string | boolean;

/** One varied field: its path in the scenario's description and its values, the default first in shrink order. */
export interface Dimension {
  readonly path: string;
  readonly values: readonly Value[];
  /** The index of the default in `values`. */
  readonly at: number;
}

/** One point of the search: the varied fields' values, the seed's number, the CPUs and the workers. */
export interface Candidate {
  readonly values: Readonly<Record<string, Value>>;
  readonly seed: number;
  readonly cpus: number;
  readonly workers: number;
}

/** How many values a numeric field's grid has, and how far from the default it reaches. */
const GRID_POINTS = 9;
const GRID_FACTOR = 8;

/** A numeric field's log grid between lo and hi (integers rounded), the default included. */
export function numericGrid(def: number, lo: number, hi: number, integer: boolean): number[] {
  if (!(lo <= def && def <= hi)) throw new InvalidArgumentError(`a range ${lo}..${hi} must hold the default ${def}`);
  const round = (x: number) => (integer ? Math.round(x) : Number(x.toPrecision(4)));
  const out = new Set<number>([def]);
  if (lo > 0) {
    for (let k = 0; k < GRID_POINTS; k++) out.add(round(lo * (hi / lo) ** (k / (GRID_POINTS - 1))));
  } else {
    for (let k = 0; k < GRID_POINTS; k++) out.add(round(lo + ((hi - lo) * k) / (GRID_POINTS - 1)));
  }
  return [...out].filter((x) => x >= lo && x <= hi).sort((a, b) => a - b);
}

/** The dimensions of a scenario's params (those in `vary`, or every number, boolean and enum), with --range and
 * --values applied; `current` holds the resolved spec's values (the defaults the grids centre on). */
export function dimensionsOf(
  params: Readonly<Record<string, ParamSpec>>,
  current: Readonly<Record<string, Value>>,
  vary: readonly string[] | undefined,
  ranges: ReadonlyMap<string, readonly [number, number]>,
  choices: ReadonlyMap<string, readonly Value[]>,
): Dimension[] {
  const names = vary ?? Object.keys(params);
  for (const n of [...names, ...ranges.keys(), ...choices.keys()]) {
    const name = n.replace(/^params\./, '');
    if (!(name in params))
      throw new InvalidArgumentError(
        `${n}: not a param of this scenario; allowed: ${Object.keys(params).join(', ') || 'none'}`,
      );
  }
  const dims: Dimension[] = [];
  for (const n of names) {
    const name = n.replace(/^params\./, '');
    const spec = params[name]!;
    const def = current[name]!;
    const given = choices.get(`params.${name}`) ?? choices.get(name);
    let values: Value[];
    if (given) values = [def, ...given.filter((v) => v !== def)];
    else if (spec.type === 'boolean') values = [def, !def];
    else if (spec.type === 'string') {
      if (!spec.enum) {
        if (vary) throw new InvalidArgumentError(`params.${name}: a free string; give its values with --values`);
        continue; // a free string (a GFP mask) varies only where --values says
      }
      values = [def, ...spec.enum.filter((v) => v !== def)];
    } else {
      const d = def as number;
      const r = ranges.get(`params.${name}`) ?? ranges.get(name);
      const [lo, hi] = r ?? [
        Math.max(spec.min, d > 0 ? d / GRID_FACTOR : spec.min),
        Math.min(spec.max, d > 0 ? d * GRID_FACTOR : spec.min + GRID_FACTOR),
      ];
      if (r && (lo < spec.min || hi > spec.max))
        throw new InvalidArgumentError(
          `--range params.${name}=${lo}..${hi}: outside its bounds ${spec.min}..${spec.max}`,
        );
      values = numericGrid(d, lo, hi, spec.type === 'integer');
    }
    if (values.length > 1) {
      const sorted = spec.type === 'integer' || spec.type === 'number';
      dims.push({ path: `params.${name}`, values, at: sorted ? values.indexOf(def) : 0 });
    }
  }
  return dims;
}

/** A dimension's arbitrary: an offset from the default's index, so that fast-check shrinks it to the default. */
function dimensionArb(d: Dimension): fc.Arbitrary<Value> {
  return fc.integer({ min: -d.at, max: d.values.length - 1 - d.at }).map((k) => d.values[d.at + k]!);
}

/** The whole search space: the dimensions, seeds 1..seeds, and the CPU and worker counts given (fewest first). */
export function candidateArb(
  dims: readonly Dimension[],
  seeds: number,
  cpus: readonly number[],
  workers: readonly number[],
): fc.Arbitrary<Candidate> {
  const sorted = (xs: readonly number[]) => [...xs].sort((a, b) => a - b);
  return fc.record({
    values: fc.record(Object.fromEntries(dims.map((d) => [d.path, dimensionArb(d)]))),
    seed: fc.integer({ min: 1, max: seeds }),
    cpus: fc.constantFrom(...sorted(cpus)),
    workers: fc.constantFrom(...sorted(workers)),
  });
}

/** The candidates next to `c`: each dimension a grid step either way, and the same point on the next seeds. */
export function neighbours(c: Candidate, dims: readonly Dimension[], seeds: number, more: number): Candidate[] {
  const out: Candidate[] = [];
  for (const d of dims) {
    const i = d.values.indexOf(c.values[d.path]!);
    for (const j of [i - 1, i + 1]) {
      if (j >= 0 && j < d.values.length) out.push({ ...c, values: { ...c.values, [d.path]: d.values[j]! } });
    }
  }
  for (let k = 1; k <= more; k++) out.push({ ...c, seed: ((c.seed - 1 + k) % seeds) + 1 });
  return out;
}

/** `path=lo..hi` (numbers). */
export function parseRange(s: string): [string, readonly [number, number]] {
  const m = /^([\w.]+)=(-?[\d.e+]+)\.\.(-?[\d.e+]+)$/.exec(s);
  if (!m || !(Number(m[2]) <= Number(m[3])))
    throw new InvalidArgumentError(`--range ${s}: want path=lo..hi with lo <= hi (params.stormCycle=256..4096)`);
  return [m[1]!, [Number(m[2]), Number(m[3])]];
}

/** `path=a,b,...`: numbers and booleans as such, the rest as strings. */
export function parseChoices(s: string): [string, readonly Value[]] {
  const at = s.indexOf('=');
  if (at <= 0 || at === s.length - 1)
    throw new InvalidArgumentError(`--values ${s}: want path=a,b,... (params.victimMask=GFP_KERNEL,GFP_NOWAIT)`);
  const parse = (x: string): Value =>
    x === 'true' ? true : x === 'false' ? false : x !== '' && !Number.isNaN(Number(x)) ? Number(x) : x;
  return [
    s.slice(0, at),
    s
      .slice(at + 1)
      .split(',')
      .map(parse),
  ];
}
