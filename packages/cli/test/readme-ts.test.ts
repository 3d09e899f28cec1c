// The packages' READMEs' TypeScript compiles, so that no example can rot: every ```ts block of packages/*/README.md
// is type-checked, all in one program, against the built packages (their dist/, as a user of @faultline/* sees
// them) with tsconfig.base.json's compiler options, and must give no diagnostic; each one is reported with its
// README and line. A block that is a fragment is wrapped by its harness below (keyed by README and a pattern of the
// block): the block's import lines stay first, then the harness declares what the fragment leaves free (`ctx`, a
// run's options or result) and opens the generator a task's body belongs in. A whole program needs none. Blocks
// that are whole programs and need no task module (gfp, zone) also run, their comments' claims asserted. Left out,
// each named with its reason in SKIPPED: none now. readme.test.ts owns the sh blocks and README.md's ts blocks.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { fencedBlocks } from './markdown.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const packages = readdirSync(join(root, 'packages'));

interface Harness {
  readonly readme: string;
  /** A pattern of the block's text: it picks one block of the README. */
  readonly shows: RegExp;
  /** Lines after the block's imports, before the rest of it. */
  readonly before?: string;
  /** Lines after the block. */
  readonly after?: string;
  /** Run it too (with node, after the type check): it is a whole program and quick. */
  readonly run?: true;
}

/** A task's body: the generator it belongs in, `ctx` its argument. */
const TASK_BODY = {
  before: "import { defineTask } from '@faultline/engine';\nexport default defineTask(function* (ctx) {",
  after: '});',
};

const HARNESSES: readonly Harness[] = [
  {
    readme: 'packages/gfp/README.md',
    shows: /decideAllocation\(plan/,
    // What its last comment says.
    after: "if (d.verdict !== 'fail' || !d.wakeKswapd) throw new Error(JSON.stringify(d));",
    run: true,
  },
  {
    readme: 'packages/rcu/README.md',
    shows: /rcuReadLock\(ctx\)/,
    before: `declare const oldPfn: number;\n${TASK_BODY.before}`,
    after: TASK_BODY.after,
  },
  { readme: 'packages/reclaim/README.md', shows: /allocPages\(ctx/, ...TASK_BODY },
  {
    readme: 'packages/report/README.md',
    shows: /renderReport\(/,
    before: [
      "import type { RunResult } from '@faultline/engine';",
      'declare const title: string, command: string, policy: string, result: RunResult;',
      'declare const head: string[], rows: string[][], figures: Record<string, number>;',
    ].join('\n'),
  },
  {
    readme: 'packages/trace/README.md',
    shows: /perfettoTrace\(r\)/,
    before: "import type { RunOptions } from '@faultline/engine';\ndeclare const options: RunOptions;",
  },
  {
    readme: 'packages/zone/README.md',
    shows: /Zone\.create/,
    // A fresh zone has the page; the descriptor is cloneable, and attaches.
    after: 'if (pfn < 0) throw new Error(String(pfn));\nZone.attach(structuredClone(zone.descriptor()));',
    run: true,
  },
];

/** Blocks not checked, each with its reason: none now. */
const SKIPPED: ReadonlyArray<{ readme: string; shows: RegExp; why: string }> = [];

interface Block {
  readonly readme: string;
  /** The README's line of the block's first line. */
  readonly line: number;
  readonly text: string;
}

/** The ```ts blocks of a README. */
function tsBlocks(readme: string): Block[] {
  return fencedBlocks(join(root, readme))
    .filter((b) => b.lang === 'ts')
    .map((b) => ({ readme, line: b.line, text: b.text }));
}

/** A block as a module: its lines, each with the README line it shows (null: the harness's). */
function wrapped(b: Block, h: Harness | undefined): Array<{ text: string; line: number | null }> {
  const lines = b.text.replace(/\n$/, '').split('\n');
  // The block's imports: its first lines, up to the first that is neither an import nor blank.
  let n = 0;
  while (n < lines.length && /^(import\b|\s*$)/.test(lines[n]!)) n++;
  const own = (from: number, to: number) => lines.slice(from, to).map((text, i) => ({ text, line: b.line + from + i }));
  const harness = (s: string | undefined) =>
    s === undefined ? [] : s.split('\n').map((text) => ({ text, line: null }));
  return [...own(0, n), ...harness(h?.before), ...own(n, lines.length), ...harness(h?.after)];
}

describe("the packages' READMEs", () => {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-readme-ts-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // The folder a user's project would be: @faultline/* are the workspace's packages, xstate and @types the root's.
  mkdirSync(join(dir, 'node_modules', '@faultline'), { recursive: true });
  for (const p of packages) symlinkSync(join(root, 'packages', p), join(dir, 'node_modules', '@faultline', p));
  for (const d of ['xstate', '@types']) symlinkSync(join(root, 'node_modules', d), join(dir, 'node_modules', d));
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');

  const blocks = packages
    .map((p) => `packages/${p}/README.md`)
    .filter((f) => existsSync(join(root, f)))
    .flatMap(tsBlocks);
  const pick = <T extends { readme: string; shows: RegExp }>(list: readonly T[], b: Block) =>
    list.filter((h) => h.readme === b.readme && h.shows.test(b.text));

  it('have ts blocks, each picked by at most one harness, and every harness picks one', () => {
    // engine 3, gfp 1, mm 1, rcu 2, reclaim 2, report 1, trace 1, zone 1.
    expect(blocks.length).toBeGreaterThanOrEqual(12);
    for (const b of blocks) expect(pick([...HARNESSES, ...SKIPPED], b).length, `${b.readme}:${b.line}`).toBeLessThan(2);
    for (const h of [...HARNESSES, ...SKIPPED]) {
      expect(blocks.filter((b) => pick([h], b).length > 0).length, `${h.readme} ${h.shows}`).toBe(1);
    }
  });

  const files = blocks
    .filter((b) => pick(SKIPPED, b).length === 0)
    .map((b, i) => {
      const harness = pick(HARNESSES, b)[0];
      const lines = wrapped(b, harness);
      const path = join(dir, `${i}-${b.readme.split('/')[1]}.ts`);
      writeFileSync(path, `${lines.map((l) => l.text).join('\n')}\n`);
      return { block: b, harness, lines, path };
    });

  it('have ts blocks that type-check against the built packages', () => {
    const base = ts.readConfigFile(join(root, 'tsconfig.base.json'), ts.sys.readFile);
    const { options, errors } = ts.convertCompilerOptionsFromJson(base.config.compilerOptions, root);
    expect(errors).toEqual([]);
    const program = ts.createProgram(
      files.map((f) => f.path),
      {
        ...options,
        noEmit: true,
        composite: false,
        declaration: false,
        declarationMap: false,
        sourceMap: false,
        typeRoots: [join(dir, 'node_modules', '@types')],
      },
    );
    const found: string[] = [];
    // All of them at once: getPreEmitDiagnostics leaves out the semantic ones while any file has a syntax error.
    const all = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()];
    for (const f of program.getSourceFiles()) {
      all.push(...program.getSyntacticDiagnostics(f), ...program.getSemanticDiagnostics(f));
    }
    for (const d of all) {
      const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
      const f = files.find((x) => d.file && x.path === d.file.fileName);
      if (!f || d.start === undefined) {
        found.push(`${d.file?.fileName ?? '(no file)'}: ${text}`);
        continue;
      }
      const at = d.file!.getLineAndCharacterOfPosition(d.start);
      const line = f.lines[at.line]?.line;
      const where = line == null ? `${f.block.readme}:${f.block.line} (its harness)` : `${f.block.readme}:${line}`;
      found.push(`${where}:${at.character + 1}: ${text}\n    ${f.lines[at.line]?.text.trim()}`);
    }
    expect(found, found.join('\n')).toEqual([]);
  }, 60_000);

  it('have ts blocks that run, where they are whole programs', () => {
    const runs = files.filter((f) => f.harness?.run);
    expect(runs.length).toBeGreaterThan(0);
    for (const f of runs) {
      const js = ts.transpileModule(readFileSync(f.path, 'utf8'), {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      }).outputText;
      writeFileSync(f.path.replace(/\.ts$/, '.mjs'), js);
      const r = spawnSync(process.execPath, [f.path.replace(/\.ts$/, '.mjs')], { cwd: dir, encoding: 'utf8' });
      expect(r.status, `${f.block.readme}:${f.block.line}\n${r.stderr}`).toBe(0);
    }
  });
});
