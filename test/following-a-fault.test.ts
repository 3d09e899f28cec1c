// Keeps docs/following-a-fault.md true to the code. Every row of its table names a file that exists and a function,
// method or const defined in that file (`Class.method`, `outer.inner`: the inner one defined after the outer one,
// before the next top-level declaration). Consecutive rows form a chain: the later row's file is the earlier one's,
// or reachable from it through imports (relative `./x.js` is src/x.ts; a name imported from `@faultline/pkg` or
// `@faultline/engine/module` is the file its face re-exports it from, not the whole package; `import type` counts:
// it is a link a reader can follow), or the later
// row's `what happens` cell says in its first sentence how control got there without an import: the engine takes an
// operation the task yields, calls a module's hook, or a commit runs between windows (yields, hook, commit). A row
// whose cell starts with "Back in" returns to a caller: its file must be reachable from some earlier row's file.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DOC = 'docs/following-a-fault.md';
const COLUMNS = ['step', 'file', 'function', 'kernel counterpart', 'what happens'];
const HANDOVER = /\b(yields|hook|commit)\b/i;
const RETURN = /^Back in\b/;

interface Row {
  readonly step: string;
  /** The step as a number, for the test's name. */
  readonly n: number;
  readonly file: string;
  readonly func: string;
  readonly kernel: string;
  readonly what: string;
  readonly line: number;
}

/** A table row's cells: split on unescaped pipes, `\|` unescaped, backticks and a trailing `()` dropped. */
function cells(line: string): string[] {
  const parts = line
    .trim()
    .replace(/^\|/, '')
    .replace(/(?<!\\)\|$/, '')
    .split(/(?<!\\)\|/);
  return parts.map((c) => c.trim().replace(/\\\|/g, '|'));
}

const bare = (s: string) => s.replace(/`/g, '').replace(/\(\)$/, '').trim();

function readRows(): { header: string[] | null; rows: Row[] } {
  const lines = readFileSync(join(ROOT, DOC), 'utf8').split('\n');
  let header: string[] | null = null;
  const rows: Row[] = [];
  lines.forEach((text, i) => {
    if (!text.trim().startsWith('|')) return;
    const c = cells(text);
    if (header === null) {
      header = c;
      return;
    }
    if (c.every((x) => /^:?-+:?$/.test(x))) return;
    rows.push({
      step: c[0] ?? '',
      n: Number(c[0]),
      file: bare(c[1] ?? ''),
      func: bare(c[2] ?? ''),
      kernel: c[3] ?? '',
      what: c[4] ?? '',
      line: i + 1,
    });
  });
  return { header, rows };
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const MODIFIERS = '(?:(?:public|private|protected|static|readonly|async|override|get|set)\\s+)*';

/** Index just past the parenthesised list opening at `open`, or -1. */
function pastParens(src: string, open: number): number {
  let depth = 0;
  for (let i = open; i < src.length; i++) {
    if (src[i] === '(') depth++;
    else if (src[i] === ')' && --depth === 0) return i + 1;
  }
  return -1;
}

/** What follows `i`, whitespace skipped. */
const nextText = (src: string, i: number) => src.slice(i).trimStart();

/** Where `name` is defined as a method (`name(...) {` or `name(...): T {`) or a property holding a function
 * (`name: (...) =>`, `name = function`, ...) at the start of an indented line, from `from` on; -1 if nowhere. */
function memberAt(src: string, name: string, from: number, to: number): number {
  const method = new RegExp(`^[ \\t]+${MODIFIERS}\\*?\\s*${esc(name)}\\s*(?:<[^>\\n]*>)?\\(`, 'gm');
  method.lastIndex = from;
  for (let m = method.exec(src); m !== null && m.index < to; m = method.exec(src)) {
    const end = pastParens(src, m.index + m[0].length - 1);
    if (end > 0 && /^[{:]/.test(nextText(src, end))) return m.index;
  }
  const prop = new RegExp(
    `^[ \\t]+${MODIFIERS}${esc(name)}\\s*[:=]\\s*(?:async\\s*)?(function\\b|\\(|[A-Za-z_$][\\w$]*\\s*=>)`,
    'gm',
  );
  prop.lastIndex = from;
  for (let m = prop.exec(src); m !== null && m.index < to; m = prop.exec(src)) {
    if (m[1] !== '(') return m.index;
    const end = pastParens(src, m.index + m[0].length - 1);
    if (end > 0 && /^(=>|:)/.test(nextText(src, end))) return m.index;
  }
  return -1;
}

/** Where `name` is declared at any level: function, generator, class, const/let, or a member as above. */
function declarationAt(src: string, name: string): number {
  const n = esc(name);
  const forms = [
    `^[ \\t]*(?:export\\s+)?(?:default\\s+)?(?:async\\s+)?function\\s*\\*?\\s*${n}\\b`,
    `^[ \\t]*(?:export\\s+)?(?:default\\s+)?(?:abstract\\s+)?class\\s+${n}\\b`,
    `^[ \\t]*(?:export\\s+)?(?:const|let|var)\\s+${n}\\s*[:=]`,
  ];
  for (const f of forms) {
    const m = new RegExp(f, 'm').exec(src);
    if (m) return m.index;
  }
  return memberAt(src, name, 0, src.length);
}

/** The end of the top-level declaration that contains `at`: the next declaration at column 0, or the file's end. */
function scopeEnd(src: string, at: number): number {
  const modifiers = '(?:export\\s+)?(?:default\\s+)?(?:declare\\s+)?(?:abstract\\s+)?(?:async\\s+)?';
  const top = new RegExp(`^${modifiers}(?:class|function|const|let|var|interface|type|enum)\\b`, 'gm');
  top.lastIndex = src.indexOf('\n', at) + 1 || src.length;
  const m = top.exec(src);
  return m ? m.index : src.length;
}

/** Whether `Outer.inner` (or a plain name) is defined in `src`. */
function defines(src: string, qualified: string): boolean {
  const [outer, ...inner] = qualified.split('.');
  if (!outer || !/^[A-Za-z_$][\w$]*$/.test(outer)) return false;
  let at = declarationAt(src, outer);
  if (at < 0) return false;
  const end = scopeEnd(src, at);
  for (const name of inner) {
    if (!/^[A-Za-z_$][\w$]*$/.test(name)) return false;
    at = memberAt(src, name, at + 1, end);
    if (at < 0) return false;
  }
  return true;
}

/** A package face's names and the files that define them: `export { a, b as c } from './x.js'` (and `export *`)
 * in packages/<pkg>/src/index.ts or module-sdk.ts. */
const faceCache = new Map<string, { names: Map<string, string>; all: string[] }>();
function faceOf(file: string): { names: Map<string, string>; all: string[] } {
  let face = faceCache.get(file);
  if (face) return face;
  face = { names: new Map(), all: [] };
  faceCache.set(file, face);
  const src = readFileSync(join(ROOT, file), 'utf8');
  for (const m of src.matchAll(/export\s+(?:type\s+)?(\{[^}]*\}|\*)\s*from\s*['"](\.[^'"]+)['"]/g)) {
    const target = relative(ROOT, join(ROOT, dirname(file), m[2]!.replace(/\.js$/, '.ts')));
    if (m[1] === '*') face.all.push(target);
    else
      for (const item of m[1]!.slice(1, -1).split(',')) {
        const name = item
          .replace(/^\s*type\s+/, '')
          .split(/\s+as\s+/)
          .pop()!
          .trim();
        if (name) face.names.set(name, target);
      }
  }
  return face;
}

/** The repository files a source file links to (type-only links included): a relative import's file, and for an
 * import of a package's face (`@faultline/pkg`, `@faultline/engine/module`), the file that defines each name it
 * takes - not the whole package, so that a link is one a reader can follow from the import line. */
function importsOf(file: string): string[] {
  if (!existsSync(join(ROOT, file))) return [];
  const src = readFileSync(join(ROOT, file), 'utf8');
  const out: string[] = [];
  const re = /(?:\bimport|\bexport)\s+(?:type\s+)?(?:([\w$]+|\{[^}]*\}|\*\s+as\s+\w+)\s+from\s*)?['"]([^'"]+)['"]/g;
  for (const m of src.matchAll(re)) {
    const spec = m[2]!;
    if (spec.startsWith('.')) {
      const target = relative(ROOT, join(ROOT, dirname(file), spec.replace(/\.js$/, '.ts')));
      if (existsSync(join(ROOT, target))) out.push(target);
      continue;
    }
    const pkg = /^@faultline\/([\w-]+)(\/module)?$/.exec(spec);
    if (!pkg) continue;
    const faceFile = `packages/${pkg[1]}/src/${pkg[2] ? 'module-sdk' : 'index'}.ts`;
    if (!existsSync(join(ROOT, faceFile))) continue;
    const face = faceOf(faceFile);
    const names = (m[1] ?? '').startsWith('{')
      ? m[1]!
          .slice(1, -1)
          .split(',')
          .map((x) =>
            x
              .replace(/^\s*type\s+/, '')
              .split(/\s+as\s+/)[0]!
              .trim(),
          )
      : [];
    for (const name of names) {
      const target = face.names.get(name);
      if (target) out.push(target);
    }
    out.push(...face.all);
  }
  return out;
}

const reachCache = new Map<string, Set<string>>();
/** Every file reachable from `file` through imports, itself excluded unless a cycle leads back. */
function reachable(file: string): Set<string> {
  let seen = reachCache.get(file);
  if (seen) return seen;
  seen = new Set();
  const todo = importsOf(file);
  while (todo.length > 0) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    todo.push(...importsOf(f));
  }
  reachCache.set(file, seen);
  return seen;
}

const { header, rows } = readRows();
const label = (r: Row) => `row ${r.step} (${DOC}:${r.line}: ${r.file} ${r.func})`;

describe(DOC, () => {
  it('has one table with the agreed columns and steps numbered 1, 2, 3, ...', () => {
    expect(header, `${DOC}: no table`).toEqual(COLUMNS);
    expect(rows.length, `${DOC}: too few rows to follow a fault`).toBeGreaterThanOrEqual(20);
    expect(rows.map((r) => r.step)).toEqual(rows.map((_, i) => String(i + 1)));
    for (const r of rows) expect(r.kernel, `${label(r)}: no kernel counterpart (write "-" for none)`).not.toBe('');
  });

  it.each(rows)('row $n: $func in $file', (r) => {
    expect(existsSync(join(ROOT, r.file)) && r.file.endsWith('.ts'), `${label(r)}: no such source file`).toBe(true);
    const src = readFileSync(join(ROOT, r.file), 'utf8');
    expect(defines(src, r.func), `${label(r)}: '${r.func}' is not defined in ${r.file}`).toBe(true);
    const i = rows.indexOf(r);
    if (i === 0) return;
    const prev = rows[i - 1]!;
    if (prev.file === r.file || reachable(prev.file).has(r.file)) return;
    if (RETURN.test(r.what)) {
      const callers = rows.slice(0, i).filter((e) => e.file === r.file || reachable(e.file).has(r.file));
      expect(
        callers.length,
        `${label(r)}: says "Back in", but no earlier row's file imports ${r.file}`,
      ).toBeGreaterThan(0);
      return;
    }
    if (HANDOVER.test(r.what.split(/\.\s/)[0]!)) return;
    expect.fail(
      `${label(r)}: not reachable by imports from ${label(prev)}, and its 'what happens' cell names no hand-over ` +
        `(yields, hook, commit) in its first sentence, nor starts with "Back in"`,
    );
  });
});
