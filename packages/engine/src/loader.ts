// loader: loading a task or kernel module by path, in a worker or the main thread. A function cannot cross
// postMessage, so each thread imports the module itself; TypeScript modules go through tsx's loader.
import { register } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isKernelModule, type KernelModule } from './hooks.js';
import { actorTask, isActorLogic } from './task-actor.js';
import type { TaskFunction } from './task.js';

let tsxRegistered = false;
let resolverRegistered = false;

/** Where `@faultline/*` resolves from for a module outside the packages (resolve-hooks.ts): the engine, and the
 * file URLs in FAULTLINE_RESOLVE_FROM (comma-separated), which the CLI sets for its own packages. */
export const RESOLVE_FROM_ENV = 'FAULTLINE_RESOLVE_FROM';

function registerResolver(): void {
  if (resolverRegistered) return;
  resolverRegistered = true;
  const extra = (process.env[RESOLVE_FROM_ENV] ?? '').split(',').filter((x) => x !== '');
  register(new URL('./resolve-hooks.js', import.meta.url), { data: { anchors: [import.meta.url, ...extra] } });
}

/** Where faultline's own packages lie (the folder holding the engine's: packages/ in the repository,
 * node_modules/@faultline/ installed). Their modules resolve their imports themselves. */
const OWN_PACKAGES = fileURLToPath(new URL('../../', import.meta.url));

/** Import a module by path (TypeScript through tsx), in this thread; the error names `what` and the module. A
 * module outside faultline's packages may import `@faultline/*` from anywhere on disk (registerResolver, whose hooks
 * thread every later import in the process then passes through: the built-in modules do without it). */
export async function importByPath(module: string, what: string): Promise<Record<string, unknown>> {
  if (!module.startsWith(OWN_PACKAGES) || /\.[cm]?ts$/.test(module)) registerResolver();
  if (/\.[cm]?ts$/.test(module) && !tsxRegistered) {
    const { register } = await import('tsx/esm/api');
    register();
    tsxRegistered = true;
  }
  try {
    return (await import(pathToFileURL(module).href)) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${what} '${module}' could not be loaded: ${(e as Error).message}`);
  }
}

/** A task export: a generator function, or XState actor logic (run through actorTask). */
export async function loadTask(module: string, name: string): Promise<TaskFunction> {
  const mod = await importByPath(module, 'task module');
  const x = mod[name];
  if (typeof x === 'function') return x as TaskFunction;
  if (isActorLogic(x)) return actorTask(x);
  const exports = Object.keys(mod).filter((k) => typeof mod[k] === 'function' || isActorLogic(mod[k]));
  throw new Error(
    `task module '${module}' has no task export '${name}' (a generator function or XState actor logic); its task exports: ${exports.join(', ') || 'none'}`,
  );
}

export async function loadKernelModule(module: string, name: string): Promise<KernelModule> {
  const mod = await importByPath(module, 'kernel module');
  const x = mod[name];
  if (isKernelModule(x)) return x;
  throw new Error(
    `kernel module '${module}' has no export '${name}' made with defineKernelModule({ name, setup }); its exports: ${Object.keys(mod).join(', ') || 'none'}`,
  );
}
