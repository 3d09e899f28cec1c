// lock-timeline: a lock's busy intervals in simulated time, for locks that the commit models by their hold times
// (the zone lock). A request at time t that holds the lock for d ns is served in the first gap at or after t that
// is d long: requests are served in the order of their own times even when one arrives at a later commit than the
// holds that followed it (a CPU whose clock lagged the window), so a waiter is charged only the holds that really
// overlapped its request, never the rest of a window. Intervals that end before every CPU's clock can no longer
// matter and are dropped (prune).

export class LockTimeline {
  /** Busy intervals, sorted and disjoint: [starts[i], ends[i]). Adjacent ones are merged. */
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];

  /** Hold the lock for `holdNs` from the first moment at or after `atNs` that it is free that long; returns the
   * start of the hold (the request waited start - atNs). */
  serve(atNs: number, holdNs: number): number {
    const { starts: s, ends: e } = this;
    // The first interval that ends after atNs.
    let lo = 0;
    let hi = e.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (e[mid]! <= atNs) lo = mid + 1;
      else hi = mid;
    }
    let i = lo;
    let start = atNs;
    while (i < s.length && s[i]! < start + holdNs) {
      if (e[i]! > start) start = e[i]!;
      i++;
    }
    const end = start + holdNs;
    // Insert [start, end) before interval i, merging with the neighbour on either side when they touch.
    const joinsPrev = i > 0 && e[i - 1]! === start;
    const joinsNext = i < s.length && s[i]! === end;
    if (joinsPrev && joinsNext) {
      e[i - 1] = e[i]!;
      s.splice(i, 1);
      e.splice(i, 1);
    } else if (joinsPrev) e[i - 1] = end;
    else if (joinsNext) s[i] = start;
    else {
      s.splice(i, 0, start);
      e.splice(i, 0, end);
    }
    return start;
  }

  /** Forget the intervals that end at or before `horizonNs`. */
  prune(horizonNs: number): void {
    let n = 0;
    while (n < this.ends.length && this.ends[n]! <= horizonNs) n++;
    if (n > 0) {
      this.starts.splice(0, n);
      this.ends.splice(0, n);
    }
  }

  /** Intervals kept (for tests and bounds). */
  get size(): number {
    return this.starts.length;
  }
}
