// resolve-hooks: a module resolve hook (node:module register) that lets a task, policy or kernel module anywhere on
// disk import `@faultline/*`: a specifier the file's own folders cannot resolve is resolved again from the anchors -
// the engine's own location and any the caller adds (the CLI adds its own and @faultline/scenarios', which between
// them reach every package) - so that the user's module gets the very instances the engine and the built-in
// modules use. Any other specifier, and any that resolves from the file's folders, is left alone.
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

export async function resolve(specifier: string, context: ResolveContext, next: NextResolve): Promise<{ url: string }> {
  if (!specifier.startsWith('@faultline/')) return next(specifier, context);
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
