// digest: a running hash of each CPU's event trace (two 32-bit multiply-xorshift lanes, fast enough to update on
// every event) and the run digest: SHA-256 over every CPU's lanes and event count, in CPU order, and the
// statistics. Equal digests mean equal traces, whatever the number of worker threads.
import { createHash } from 'node:crypto';

export class TraceHash {
  h1 = 0x811c9dc5;
  h2 = 0x01000193;
  events = 0;

  add(a: number, b: number, c: number, d: number): void {
    this.events++;
    this.h1 = mix(this.h1, a, b);
    this.h2 = mix(this.h2, c ^ Math.imul(this.events, 0x9e3779b1), d);
  }
}

function mix(h: number, x: number, y: number): number {
  // Both halves of a (possibly large) integer go in, so times beyond 2^32 ns still count.
  h = Math.imul(h ^ (x >>> 0), 0x85ebca6b);
  h = Math.imul(h ^ Math.floor(x / 4294967296), 0xc2b2ae35);
  h = Math.imul(h ^ (y | 0), 0x27d4eb2f);
  return (h ^ (h >>> 15)) >>> 0;
}

export function runDigest(parts: ReadonlyArray<{ h1: number; h2: number; events: number }>, stats: unknown): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(`${p.h1.toString(16)}:${p.h2.toString(16)}:${p.events};`);
  h.update(JSON.stringify(stats));
  return h.digest('hex');
}
