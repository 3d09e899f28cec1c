// time: simulated time is an integer count of nanoseconds (a JS number: exact up to 2^53 ns, 104 days).

export const NS_PER_US = 1_000;
export const NS_PER_MS = 1_000_000;
export const NS_PER_S = 1_000_000_000;

const UNITS: Record<string, number> = { ns: 1, us: NS_PER_US, µs: NS_PER_US, ms: NS_PER_MS, s: NS_PER_S };

/** "10ms", "250us", "1.5s", "500ns" or a plain number of nanoseconds. */
export function parseDurationNs(text: string | number, what = 'duration'): number {
  if (typeof text === 'number') {
    if (!Number.isSafeInteger(text) || text < 0)
      throw new RangeError(`${what}: ${text} is not a whole number of nanoseconds >= 0`);
    return text;
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s)?\s*$/.exec(String(text));
  if (!m)
    throw new RangeError(
      `${what}: '${text}' is not a duration; write a number with a unit: ns, us, ms or s (e.g. 10ms)`,
    );
  const ns = Math.round(Number(m[1]) * UNITS[m[2] ?? 'ns']!);
  if (!Number.isSafeInteger(ns)) throw new RangeError(`${what}: '${text}' is too long`);
  return ns;
}

export function formatNs(ns: number): string {
  if (ns >= NS_PER_S) return `${(ns / NS_PER_S).toFixed(3)}s`;
  if (ns >= NS_PER_MS) return `${(ns / NS_PER_MS).toFixed(3)}ms`;
  if (ns >= NS_PER_US) return `${(ns / NS_PER_US).toFixed(3)}us`;
  return `${ns}ns`;
}
