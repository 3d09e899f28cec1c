// resolve-hooks: a module resolve hook (node:module register) that lets a task, policy or kernel module anywhere on
// disk import `@faultline/*`, `xstate` and `seedrandom`: a specifier the file's own folders cannot resolve is
// resolved again from the anchors - the engine's own location and any the caller adds (the CLI adds its own and
// @faultline/scenarios', which between them reach every package) - so that a module outside any package that
// depends on faultline can import it without installing it, and gets the copies the run uses (the XState its
// actors run on; modules' per-CPU states are looked up by name, ctx.kernel, and need no shared instance). Any other specifier, and any that resolves from the file's
// folders, is left alone. And a user's .ts file loads as an ES module wherever it lies (no "type": "module" needed).
interface ResolveContext {
  readonly parentURL?: string;
  readonly conditions?: readonly string[];
  readonly importAttributes?: Record<string, string>;
}
type NextResolve = (specifier: string, context?: ResolveContext) => Promise<{ url: string }>;

let anchors: readonly string[] = [];

export function initialize(data: { anchors: readonly string[] }): void {
  anchors = data.anchors;
}

export async function resolve(
  specifier: string,
  context: ResolveContext,
  next: NextResolve,
): Promise<{ url: string; format?: string | null }> {
  const r = await resolveShared(specifier, context, next);
  // A user's TypeScript file is an ES module wherever it lies: outside a "type": "module" package, Node (and tsx
  // after it) would take a .ts file for CommonJS, and its imports of ES modules would fail.
  if (/^file:.*\.tsx?$/.test(r.url) && !r.url.includes('/node_modules/')) return { ...r, format: 'module' };
  return r;
}

/** What a user's module may import without installing it: faultline's packages, and the libraries a task or
 * kernel module is written with (XState for actors and kernel paths, seedrandom for its own streams). */
const SHARED = /^(@faultline\/|xstate($|\/)|seedrandom($|\/))/;

async function resolveShared(specifier: string, context: ResolveContext, next: NextResolve): Promise<{ url: string }> {
  if (!SHARED.test(specifier)) return next(specifier, context);
  try {
    return await next(specifier, context);
  } catch (first) {
    for (const parentURL of anchors) {
      try {
        return await next(specifier, { ...context, parentURL });
      } catch {
        // not from this anchor: the next one
      }
    }
    throw first;
  }
}
