// event-heap: a CPU's pending events, a binary min-heap ordered by (time, sequence). The sequence number is the
// CPU's own insertion counter, so equal times pop in insertion order and the order never depends on the host.

export interface SimEvent {
  timeNs: number;
  seq: number;
  kind: number;
  taskId: number;
  value: number;
}

export class EventHeap {
  private readonly items: SimEvent[] = [];
  /** Popped events, reused by push so the hot loop allocates nothing. A popped event is valid until the next push. */
  private readonly spare: SimEvent[] = [];
  private seq = 0;

  get size(): number {
    return this.items.length;
  }

  peekTimeNs(): number {
    return this.items.length ? this.items[0]!.timeNs : Infinity;
  }

  push(timeNs: number, kind: number, taskId: number, value: number): void {
    const e = this.spare.pop() ?? { timeNs: 0, seq: 0, kind: 0, taskId: 0, value: 0 };
    e.timeNs = timeNs;
    e.seq = this.seq++;
    e.kind = kind;
    e.taskId = taskId;
    e.value = value;
    const a = this.items;
    let i = a.length;
    a.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(e, a[p]!)) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = e;
  }

  pop(): SimEvent | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    this.spare.push(top);
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      const n = a.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && less(a[r]!, a[l]!) ? r : l;
        if (!less(a[c]!, last)) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

function less(x: SimEvent, y: SimEvent): boolean {
  return x.timeNs < y.timeNs || (x.timeNs === y.timeNs && x.seq < y.seq);
}
