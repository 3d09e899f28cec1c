// model-version: what a stored result was computed with - faultline's version and a hash of the model's built code
// and data (every package's dist/ and the scenario files) - so that a sweep never reuses a result of other code,
// even when the version number did not move.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const here = createRequire(import.meta.url);
/** The model's packages, each resolved from the package that depends on it. */
const PACKAGES: ReadonlyArray<[from: string | null, name: string]> = [
  [null, '@faultline/engine'],
  [null, '@faultline/gfp'],
  [null, '@faultline/zone'],
  [null, '@faultline/scenarios'],
  ['@faultline/scenarios', '@faultline/mm'],
  ['@faultline/scenarios', '@faultline/rcu'],
  ['@faultline/scenarios', '@faultline/reclaim'],
];

function files(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? files(p) : /\.(js|ya?ml)$/.test(f) ? [p] : [];
    });
}

let cached: string | null = null;
/** `<version>+<12 hex>`: the CLI's version and the hash of the model's code. */
export function modelVersion(): string {
  if (cached) return cached;
  const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string })
    .version;
  const h = createHash('sha256');
  for (const [from, name] of PACKAGES) {
    const req = from === null ? here : createRequire(here.resolve(from));
    const root = dirname(dirname(req.resolve(name))); // <package>/dist/index.js -> <package>
    for (const sub of ['dist', 'scenarios']) {
      let list: string[] = [];
      try {
        list = files(join(root, sub));
      } catch {
        continue; // a package without that folder
      }
      for (const f of list) h.update(`${name}/${f.slice(root.length)}\0`).update(readFileSync(f));
    }
  }
  cached = `${version}+${h.digest('hex').slice(0, 12)}`;
  return cached;
}
