// The READMEs' examples run, so that none can rot: every `faultline` command in a ```sh block of README.md and of
// each package's README runs as written, from a scratch folder (their output files land there; examples/ is beside
// it), with only its simulated work shrunk - `--set duration=200us` (applied last, it overrides a --duration),
// `--seeds 2`, `--budget 2` for a hunt - and must end with status 0. Left out, each named: usage synopses (lines
// with [optional] or <placeholder> parts), commands for a queue host, a shell's variables or absolute paths, and npm
// scripts (the test suite itself). And each ```ts block of README.md that shows an examples/ file names nothing the
// file lacks.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { fencedBlocks } from './markdown.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = fileURLToPath(new URL('../bin/faultline.mjs', import.meta.url));
const readmes = ['README.md', ...readdirSync(join(root, 'packages')).map((p) => `packages/${p}/README.md`)].filter(
  (f) => {
    try {
      readFileSync(join(root, f));
      return true;
    } catch {
      return false;
    }
  },
);

/** A shell line's words: quotes grouped, comments dropped. */
function words(line: string): string[] {
  const out: string[] = [];
  for (const m of line.replace(/\s+#.*$/, '').matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

/** The commands of a sh block, continuation lines joined. */
function commands(text: string): string[] {
  return text
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

const FAULTLINE = /^(pnpm exec )?faultline /;
/** Why a command is not run, or null to run it. */
function skipped(cmd: string): string | null {
  if (/ \[|<\w|\.\.\./.test(cmd)) return 'a usage synopsis';
  if (/--queue|faultline worker/.test(cmd)) return 'needs a queue host';
  if (/\$/.test(cmd)) return "uses a shell's variables";
  if (/ \/\w/.test(cmd)) return 'reads or writes an absolute path';
  return null;
}

/** The command's arguments with its simulated work shrunk. */
function shrunk(args: string[]): string[] {
  const sub = args[0];
  const out = [...args];
  if (['run', 'compare', 'sweep', 'hunt'].includes(sub!) && !out.includes('--task'))
    out.push('--set', 'duration=200us');
  if (sub === 'run' && out.includes('--task')) out.push('--duration', '200us');
  if (out.includes('--seeds')) out.push('--seeds', '2');
  if (sub === 'hunt') out.push('--budget', '2');
  return out;
}

describe('the READMEs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-readme-'));
  symlinkSync(join(root, 'examples'), join(dir, 'examples'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const all = readmes.flatMap((f) => fencedBlocks(join(root, f)).map((b) => ({ file: f, ...b })));

  it('run every faultline command of their sh blocks', () => {
    const ran: string[] = [];
    const left: string[] = [];
    for (const b of all.filter((x) => x.lang === 'sh')) {
      for (const cmd of commands(b.text)) {
        if (cmd.startsWith('printf ')) {
          // A file the next commands read (storm.yaml): written as the README writes it.
          const r = spawnSync('bash', ['-c', cmd], { cwd: dir, encoding: 'utf8' });
          expect(r.status, `${b.file}: ${cmd}\n${r.stderr}`).toBe(0);
          continue;
        }
        if (!FAULTLINE.test(cmd)) continue;
        const why = skipped(cmd);
        if (why) {
          left.push(`${b.file}: ${why}: ${cmd.slice(0, 60)}`);
          continue;
        }
        const args = shrunk(words(cmd.replace(FAULTLINE, '')));
        const r = spawnSync(process.execPath, [bin, ...args], {
          cwd: dir,
          encoding: 'utf8',
          env: { ...process.env, FAULTLINE_NO_PROGRESS: '1' },
          timeout: 120_000,
        });
        expect(r.status, `${b.file}: faultline ${args.join(' ')}\n${r.stderr.slice(-2000)}`).toBe(0);
        ran.push(cmd);
      }
    }
    // The README's own: the flagship, a hunt, a run, comparisons, a sweep, a trace, the examples, zoneinfo.
    expect(ran.length).toBeGreaterThanOrEqual(12);
    // What was left out, each for a reason named above (synopses, queue hosts, shell variables, absolute paths).
    expect(
      left.every((l) => /: (a usage synopsis|needs a queue host|uses a shell's variables|reads or writes)/.test(l)),
    ).toBe(true);
  }, 600_000);

  it('show the examples/ files as they are', () => {
    const shown = all.filter((b) => b.lang === 'ts' && b.file === 'README.md');
    expect(shown.length).toBeGreaterThan(0);
    for (const b of shown) {
      const file = readdirSync(join(root, 'examples'))
        .map((f) => ({ f, text: readFileSync(join(root, 'examples', f), 'utf8') }))
        .find((x) => x.text.includes(b.text.split('\n')[0]!) && x.text.includes(b.text.split('\n')[1]!));
      expect(file, b.text.slice(0, 80)).toBeDefined();
      // Every name the README's code uses (identifiers, the strings it passes) is in the file: the README may
      // condense the file's layout and leave out what "see the file" stands for, not show what it does not have.
      const names = (t: string) => new Set(t.replace(/\/\/.*$|\/\*.*?\*\//gm, '').match(/[A-Za-z_][\w.|]{2,}/g) ?? []);
      const inFile = names(file!.text);
      for (const n of names(b.text)) expect(inFile.has(n), `${file!.f}: '${n}'`).toBe(true);
    }
  });
});
