// sweep-store: a sweep's results on disk - one file a run, DIR/runs/<key>.json, written whole then renamed (a sweep
// killed mid-write leaves no half result), read back only when it is the run it claims to be; and --merge, which
// takes another folder's runs into this one.
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import type { ScenarioSpec } from '@faultline/scenarios';

export const SWEEP_RUN_SCHEMA = 'faultline.sweep-run/1';

export interface StoredRun {
  readonly schema: typeof SWEEP_RUN_SCHEMA;
  readonly key: string;
  readonly version: string;
  readonly point: Record<string, string>;
  readonly policy: string;
  readonly seed: string;
  readonly spec: ScenarioSpec;
  readonly figures: Record<string, number>;
  readonly digest: string;
  readonly error: string | null;
  readonly hostMs: number;
}

export function readStored(file: string, key: string): StoredRun | null {
  if (!existsSync(file)) return null;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as StoredRun;
    return r.schema === SWEEP_RUN_SCHEMA && r.key === key ? r : null;
  } catch {
    return null; // a damaged file: computed again
  }
}

/** Write then rename, so that a sweep killed mid-write leaves no half file to be taken for a result. */
export function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/** A run's identity and its outcome, as a sweep or a hunt stores it. */
export type RunToStore = Omit<StoredRun, 'schema'>;

/** Store one run in its file (whole, then renamed) and return it as stored. */
export function storeRun(file: string, run: RunToStore): StoredRun {
  const stored: StoredRun = { schema: SWEEP_RUN_SCHEMA, ...run };
  writeAtomic(file, JSON.stringify(stored, null, 2));
  return stored;
}

/** Copy into `runsDir` the stored runs of another folder that belong to this sweep (their key is one of `keys` and
 * their content says so); returns how many were new here. */
export function mergeRuns(from: string, runsDir: string, keys: ReadonlySet<string>): number {
  const dir = join(from, 'runs');
  if (!existsSync(dir))
    throw new InvalidArgumentError(`--merge ${from}: no runs/ folder there (is it a sweep's --out?)`);
  let n = 0;
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.json'))) {
    const key = f.slice(0, -'.json'.length);
    if (!keys.has(key) || existsSync(join(runsDir, f))) continue;
    const r = readStored(join(dir, f), key);
    if (r === null) continue; // damaged, or not a run of this sweep
    writeAtomic(join(runsDir, f), JSON.stringify(r, null, 2));
    n++;
  }
  return n;
}
