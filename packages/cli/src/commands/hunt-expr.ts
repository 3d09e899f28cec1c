// hunt-expr: what a hunt drives up (--maximize) or waits for (--until), as a small expression over a candidate's
// figures. A figure is written in braces, `{victim reclaim stall (ms)}`, and means the figure of the policy being
// judged; `{victim reclaim stall (ms) @ classic}` is another policy's on the same candidate (the same seed and
// params). Around them: numbers, + - * / %, comparisons, && || !, min(), max(), abs(), and `error` (1 when the run
// ended in an error). A bare figure name without braces is that figure alone, and `FIGURE OP N` the comparison, so
// the simple forms need no braces. jsep parses the arithmetic; the evaluation is the few lines below.
import { InvalidArgumentError } from 'commander';
import jsep from 'jsep';

/** What a run gave: its figures, and its error if it ended in one. */
export interface RunFigures {
  readonly error: string | null;
  readonly figures: Readonly<Record<string, number>>;
}

/** A figure named in an expression, of the policy judged (policy null) or of the one named after @. */
export interface FigureRef {
  readonly figure: string;
  readonly policy: string | null;
}

/** A parsed expression: the figures and policies it names, and its value for a candidate's runs (by policy), with
 * `self` the policy a bare `{FIGURE}` means. Null when the value is not a finite number (a figure missing from a run
 * that died before reporting, a division by zero). */
export interface Expr {
  readonly text: string;
  readonly refs: readonly FigureRef[];
  /** The policies named after @, which each candidate must also run under. */
  readonly policies: readonly string[];
  value(runs: ReadonlyMap<string, RunFigures>, self: string): number | null;
}

const FUNCTIONS: Record<string, (...xs: number[]) => number> = { min: Math.min, max: Math.max, abs: Math.abs };
const BINARY: Record<string, (a: number, b: number) => number> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => a / b,
  '%': (a, b) => a % b,
  '>': (a, b) => Number(a > b),
  '>=': (a, b) => Number(a >= b),
  '<': (a, b) => Number(a < b),
  '<=': (a, b) => Number(a <= b),
  '==': (a, b) => Number(a === b),
  '!=': (a, b) => Number(a !== b),
  '&&': (a, b) => Number(a !== 0 && b !== 0),
  '||': (a, b) => Number(a !== 0 || b !== 0),
};
const ALLOWED =
  'figures in braces ({FIGURE} or {FIGURE @ POLICY}), numbers, + - * / %, > >= < <= == !=, && || !, ' +
  'min() max() abs(), error';

const refuse = (flag: string, text: string, why: string): never => {
  throw new InvalidArgumentError(`${flag} ${text}: ${why}; allowed: ${ALLOWED}`);
};

/** Parse an expression; `flag` names the option in errors. */
export function parseExpr(text: string, flag: string): Expr {
  const refs: FigureRef[] = [];
  // Figures become identifiers (f0, f1, ...) so that jsep sees plain arithmetic.
  const braced = text.replace(/\{([^{}]*)\}/g, (_, inner: string) => {
    const at = inner.lastIndexOf('@');
    const figure = (at < 0 ? inner : inner.slice(0, at)).trim();
    const policy = at < 0 ? null : inner.slice(at + 1).trim();
    if (figure === '' || policy === '') refuse(flag, text, `an empty figure or policy in {${inner}}`);
    refs.push({ figure, policy });
    return ` __f${refs.length - 1} `;
  });
  if (/[{}]/.test(braced)) refuse(flag, text, 'unbalanced braces');
  let ast: jsep.Expression;
  try {
    ast = jsep(braced);
  } catch (e) {
    return refuse(
      flag,
      text,
      (e as Error).message.replace(/__f(\d+)/g, (_, i) => `{${refs[Number(i)]!.figure}}`),
    );
  }
  check(ast, flag, text);
  const policies = [...new Set(refs.flatMap((r) => (r.policy === null ? [] : [r.policy])))];
  return {
    text,
    refs,
    policies,
    value(runs, self) {
      const run = runs.get(self);
      // A figure missing (a run that died before reporting) is NaN: no value, no comparison met.
      const figs = refs.map((r) => runs.get(r.policy ?? self)?.figures[r.figure] ?? Number.NaN);
      const x = evaluate(ast, figs, run?.error != null);
      return Number.isFinite(x) ? x : null;
    },
  };
}

/** Refuse, at parse time, what the evaluation does not know. */
function check(e: jsep.Expression, flag: string, text: string): void {
  const sub = (x: unknown) => check(x as jsep.Expression, flag, text);
  switch (e.type) {
    case 'Literal':
      if (typeof e.value !== 'number') refuse(flag, text, `${String(e.raw)} is not a number (a figure is in braces)`);
      return;
    case 'Identifier':
      if (!/^__f\d+$/.test(e.name as string) && e.name !== 'error')
        refuse(flag, text, `'${String(e.name)}' is not known (a figure is in braces: {${String(e.name)} ...})`);
      return;
    case 'UnaryExpression':
      if (!['-', '+', '!'].includes(e.operator as string)) refuse(flag, text, `no operator ${String(e.operator)}`);
      sub(e.argument);
      return;
    case 'BinaryExpression':
      if (!(String(e.operator) in BINARY)) refuse(flag, text, `no operator ${String(e.operator)}`);
      sub(e.left);
      sub(e.right);
      return;
    case 'CallExpression': {
      const callee = e.callee as jsep.Expression;
      if (callee.type !== 'Identifier' || !((callee.name as string) in FUNCTIONS))
        refuse(flag, text, 'only min(), max() and abs() are functions');
      for (const a of e.arguments as jsep.Expression[]) sub(a);
      return;
    }
    default:
      refuse(flag, text, `no ${e.type}`);
  }
}

function evaluate(e: jsep.Expression, figs: readonly number[], error: boolean): number {
  const ev = (x: unknown) => evaluate(x as jsep.Expression, figs, error);
  switch (e.type) {
    case 'Literal':
      return e.value as number;
    case 'Identifier':
      return e.name === 'error' ? Number(error) : figs[Number((e.name as string).slice(3))]!;
    case 'UnaryExpression': {
      const a = ev(e.argument);
      return e.operator === '-' ? -a : e.operator === '!' ? Number(a === 0) : a;
    }
    case 'BinaryExpression':
      return BINARY[e.operator as string]!(ev(e.left), ev(e.right));
    default: {
      const name = (e.callee as jsep.Identifier).name;
      return FUNCTIONS[name]!(...(e.arguments as jsep.Expression[]).map(ev));
    }
  }
}

/** --maximize: a figure's name alone, or an expression with figures in braces. */
export function parseMeasure(text: string): Expr {
  return text.includes('{') ? parseExpr(text, '--maximize') : { ...parseExpr(`{${text}}`, '--maximize'), text };
}

/** --until: `error`, `FIGURE OP N`, or an expression with figures in braces that is true (non-zero) when the run
 * fails; it is judged for each policy's run of a candidate, errors always judged as such by `error`. */
export function parsePredicate(text: string): Expr {
  const s = text.trim();
  if (s.includes('{') || s === 'error') return parseExpr(s, '--until');
  const m = /^(.+?)\s*(>=|<=|==|!=|>|<)\s*(-?[\d.e+]+)$/.exec(s);
  if (!m)
    throw new InvalidArgumentError(
      `--until ${text}: want 'error', 'FIGURE OP NUMBER' with OP one of > >= < <= == != ('victim failures > 0'), ` +
        `or an expression of ${ALLOWED}`,
    );
  return { ...parseExpr(`{${m[1]}} ${m[2]} ${m[3]}`, '--until'), text: s };
}

/** A candidate's runs by policy, for an expression. */
export function byPolicy(runs: ReadonlyArray<RunFigures & { readonly policy: string }>): Map<string, RunFigures> {
  return new Map(runs.map((r) => [r.policy, r]));
}

/** Whether a predicate holds for `policy`'s run of a candidate (its value non-zero). */
export function meets(p: Expr, runs: ReadonlyArray<RunFigures & { readonly policy: string }>, policy: string): boolean {
  const v = p.value(byPolicy(runs), policy);
  return v !== null && v !== 0;
}

/** Every figure an expression names must be one the runs report. */
export function checkFigures(e: Expr, figures: readonly string[], flag: string): void {
  for (const r of e.refs)
    if (!figures.includes(r.figure))
      throw new InvalidArgumentError(
        `${flag} ${e.text}: '${r.figure}' is not a figure of this run; allowed: ${figures.join(', ')}`,
      );
}
