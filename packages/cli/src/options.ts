// options: parsing and validating command-line values; every error names the option and what is allowed.
import { closeSync, existsSync, openSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LOCK_KINDS, type LockKind } from '@faultline/engine';
import { InvalidArgumentError } from 'commander';

export const KERNELS = ['v5.18', 'v6.4', 'v6.3+'] as const;

/** The `schema` field of each --json output: its shape and version (bumped when a field changes meaning or goes). */
export const JSON_SCHEMAS = {
  run: 'faultline.run/1',
  scenarioRun: 'faultline.run-scenario/1',
  compare: 'faultline.compare/2',
} as const;
export type Kernel = (typeof KERNELS)[number];

/** --kernel: the allocator's behaviour. */
export function kernelOption(value: string): Kernel {
  if (!(KERNELS as readonly string[]).includes(value))
    throw new InvalidArgumentError(`--kernel must be one of ${KERNELS.join(', ')}; got '${value}'`);
  return value as Kernel;
}

/** A duration option (--window, --duration): a number with a unit, checked before anything runs. */
export function durationOption(name: string): (value: string) => string {
  return (value: string) => {
    if (!/^\s*\d+(\.\d+)?\s*(ns|us|µs|ms|s)\s*$/.test(value)) {
      throw new InvalidArgumentError(
        `${name} must be a number with a unit (ns, us, ms or s), e.g. 10ms; got '${value}'`,
      );
    }
    return value.trim();
  };
}

/** --watchdog: host time with a unit, or 0 for never. */
export function watchdogOption(value: string): string {
  if (value.trim() === '0') return '0';
  return durationOption('--watchdog')(value);
}

/** --thp: never, madvise or always. */
export function thpOption(value: string): 'never' | 'madvise' | 'always' {
  if (!['never', 'madvise', 'always'].includes(value))
    throw new InvalidArgumentError(`--thp must be one of never, madvise, always; got '${value}'`);
  return value as 'never' | 'madvise' | 'always';
}

/** --lowmem-reserve-ratio a,b,c: three whole numbers, for DMA, DMA32 and Normal. */
export function ratioOption(value: string): [number, number, number] {
  const xs = value.split(',').map((x) => Number(x.trim()));
  if (xs.length !== 3 || xs.some((x) => !Number.isInteger(x) || x < 0)) {
    throw new InvalidArgumentError(
      `--lowmem-reserve-ratio must be three whole numbers for DMA, DMA32 and Normal, e.g. 256,256,32; got '${value}'`,
    );
  }
  return xs as [number, number, number];
}

/** A repeatable option: each value appended. */
export function collectOption(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function intOption(name: string, min: number, max: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value.replace(/_/g, ''));
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}; got '${value}'`);
    }
    return n;
  };
}

export function floatOption(name: string, min: number, max: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be a number from ${min} to ${max}; got '${value}'`);
    }
    return n;
  };
}

/** Where what a person reads goes: standard output, or standard error when an output file is '-' (then the file is
 * standard output). Checks the output paths first: see checkOutputPaths. */
export function humanStream(o: { readonly json?: string; readonly html?: string }): NodeJS.WriteStream {
  checkOutputPaths({ '--json': o.json, '--html': o.html });
  return o.json === '-' || o.html === '-' ? process.stderr : process.stdout;
}

/** Check, before a run starts, that every output path given can be written ('-' is standard output), so that a long
 * run never ends unable to save what it gathered. */
export function checkOutputPaths(paths: Record<string, string | undefined>): void {
  for (const [option, path] of Object.entries(paths)) {
    if (path === undefined || path === '-') continue;
    const full = resolve(path);
    let isDir = false;
    try {
      isDir = statSync(full).isDirectory();
    } catch {
      // does not exist yet: its directory must
    }
    if (isDir)
      throw new InvalidArgumentError(`${option} ${path}: is a directory; give a file name (or - for standard output)`);
    // Probe by writing, as the end of the run will: a directory's permission bits do not say whether a file can be
    // created there (/proc, a read-only mount). An existing file is opened for writing and left as it is; a new one
    // is created and removed again.
    try {
      if (existsSync(full)) closeSync(openSync(full, 'r+'));
      else {
        writeFileSync(full, '', { flag: 'wx' });
        unlinkSync(full);
      }
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      throw new InvalidArgumentError(
        `${option} ${path}: cannot write there (${why}: directory '${dirname(full)}' does not exist or does not ` +
          'take files, or the file is not writable)',
      );
    }
  }
}

/** Write an output file, or standard output for '-'. */
export function writeOutput(path: string, text: string): void {
  if (path === '-') process.stdout.write(`${text}\n`);
  else writeFileSync(path, text);
}

/** `--lock name:kind`, e.g. `mmap_lock:rwsem`. */
export function parseLockOption(value: string, previous: string[] = []): string[] {
  const [name, kind] = value.split(':');
  if (!name || !LOCK_KINDS.includes(kind as LockKind)) {
    throw new InvalidArgumentError(
      `--lock must be name:kind with kind one of ${LOCK_KINDS.join(', ')}; got '${value}'`,
    );
  }
  return [...previous, value];
}
