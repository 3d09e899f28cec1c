// yaml-lazy: the YAML library, loaded when first needed rather than at import: a run of a built-in scenario without
// --set reads the files' parsed copies the build wrote (builtinDocument), and loading yaml costs about 22 ms of
// every start (issue 27). A user's scenario file, a --set value and `scenario show` load it.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';

type Yaml = typeof import('yaml');
let lib: Yaml | null = null;

/** The yaml package (its CommonJS build), loaded on first use. */
export function yaml(): Yaml {
  lib ??= createRequire(import.meta.url)('yaml') as Yaml;
  return lib;
}

/** The key a parsed copy of a scenario file is stored under: the hash of the file's text, so that an edited file is
 * never read from a stale copy. */
export function textKey(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}
