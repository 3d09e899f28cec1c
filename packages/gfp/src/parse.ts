// parse: masks written as the kernel writes them ("GFP_NOWAIT|__GFP_NOMEMALLOC|__GFP_NOWARN"), and back.
// An unknown name is an error naming it and listing the known ones; a known combination the kernel warns about is
// returned as a warning.
import { gfpComposites, GFP_COMPOSITE_NAMES, type GfpCompositeName } from './composites.js';
import { GFP_FLAG_BITS, gfpFlagNames, gfpKnownBits, type GfpFlagName, type GfpMask } from './flags.js';
import { assertKernelBehaviour, type KernelBehaviour } from './kernel.js';
import { gfpWarnings, type GfpWarning } from './warnings.js';

export class GfpParseError extends Error {
  override readonly name = 'GfpParseError';
  constructor(
    message: string,
    readonly token: string,
  ) {
    super(message);
  }
}

export interface ParsedGfp {
  readonly mask: GfpMask;
  readonly text: string;
  readonly warnings: readonly GfpWarning[];
}

function knownNames(kernel: KernelBehaviour): string[] {
  return [...GFP_COMPOSITE_NAMES, '__GFP_RECLAIM', ...gfpFlagNames(kernel)];
}

/** Parse a mask such as "GFP_KERNEL|__GFP_NOWARN", a number, or "0". */
export function parseGfp(text: string, kernel: KernelBehaviour): ParsedGfp {
  assertKernelBehaviour(kernel);
  if (typeof text !== 'string' || text.trim() === '') {
    throw new GfpParseError(
      `GFP mask: empty; write flags joined by '|', e.g. GFP_NOWAIT|__GFP_NOMEMALLOC|__GFP_NOWARN`,
      String(text),
    );
  }
  const composites = gfpComposites(kernel);
  const flagNames = new Set<string>(gfpFlagNames(kernel));
  let mask = 0;
  for (const raw of text.split('|')) {
    const token = raw.trim();
    if (token === '') throw new GfpParseError(`GFP mask '${text}': empty flag between '|'`, token);
    if ((GFP_COMPOSITE_NAMES as readonly string[]).includes(token)) {
      mask |= composites[token as GfpCompositeName];
    } else if (token === '__GFP_RECLAIM') {
      mask |= GFP_FLAG_BITS.__GFP_DIRECT_RECLAIM | GFP_FLAG_BITS.__GFP_KSWAPD_RECLAIM;
    } else if (flagNames.has(token)) {
      mask |= GFP_FLAG_BITS[token as GfpFlagName];
    } else if (/^(0x[0-9a-f]+|\d+)$/i.test(token)) {
      const value = Number(token);
      const unknown = value & ~gfpKnownBits(kernel);
      if (unknown !== 0) {
        throw new GfpParseError(
          `GFP mask '${text}': bits 0x${unknown.toString(16)} are not flags of ${kernel}; known: ${knownNames(kernel).join(', ')}`,
          token,
        );
      }
      mask |= value;
    } else {
      const hint = token === '__GFP_ATOMIC' ? ` (__GFP_ATOMIC was removed in 6.3; use kernel v5.18 to model it)` : '';
      throw new GfpParseError(
        `GFP mask '${text}': unknown flag '${token}' for kernel ${kernel}${hint}; known: ${knownNames(kernel).join(', ')}`,
        token,
      );
    }
  }
  return { mask, text, warnings: gfpWarnings(mask, kernel) };
}

/** Write a mask back as names: the largest composite it contains, then the remaining single flags. */
export function formatGfp(mask: GfpMask, kernel: KernelBehaviour): string {
  if (mask === 0) return '0';
  const composites = gfpComposites(kernel);
  let best: GfpCompositeName | null = null;
  for (const name of GFP_COMPOSITE_NAMES) {
    const bits = composites[name];
    if ((mask & bits) === bits && (best === null || popcount(bits) > popcount(composites[best]))) best = name;
  }
  const parts: string[] = [];
  let rest = mask;
  if (best !== null) {
    parts.push(best);
    rest &= ~composites[best];
  }
  for (const name of gfpFlagNames(kernel)) {
    const bit = GFP_FLAG_BITS[name];
    if ((rest & bit) !== 0) {
      parts.push(name);
      rest &= ~bit;
    }
  }
  if (rest !== 0) parts.push(`0x${rest.toString(16)}`);
  return parts.join('|');
}

function popcount(x: number): number {
  let n = 0;
  for (let v = x >>> 0; v !== 0; v &= v - 1) n++;
  return n;
}
