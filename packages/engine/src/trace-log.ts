// trace-log: what a traced run records on each CPU, for a Perfetto trace (@faultline/trace writes the file): which
// task ran on the CPU (slices on the CPU's track), and what each task did in the kernel (slices and instants on the
// task's track: faults, direct reclaim, lock waits, allocations), under the kernel's tracepoint names. Recording
// is off unless the run asks for it (RunOptions.trace), changes nothing simulated (the digest is the same), and is
// bounded per CPU: past the bound events are counted as dropped, and slices left open are closed by the writer.

export const TR_BEGIN = 1;
export const TR_END = 2;
export const TR_INSTANT = 3;
/** The track of the CPU itself (its task slices); any other track is a task's number. */
export const TR_CPU_TRACK = -1;
export const TRACE_MAX_EVENTS_DEFAULT = 200_000;

export type TraceArgs = Readonly<Record<string, number | string>>;

/** One CPU's trace as it comes back: events flattened as [timeNs, type, track, nameIndex, argsIndex] (argsIndex -1:
 * none) into the CPU's own string and args tables. */
export interface CpuTrace {
  readonly cpu: number;
  readonly events: number[];
  readonly names: string[];
  readonly args: TraceArgs[];
  readonly dropped: number;
}

export const TRACE_STRIDE = 5;

export class TraceLog {
  private readonly events: number[] = [];
  private readonly names: string[] = [];
  private readonly nameIds = new Map<string, number>();
  private readonly args: TraceArgs[] = [];
  private dropped = 0;
  /** The task whose slice is open on the CPU's track, or -1. */
  private running = -1;

  constructor(
    private readonly cpu: number,
    private readonly maxEvents: number,
    private readonly taskName: (id: number) => string,
  ) {}

  add(timeNs: number, type: number, track: number, name: string, args?: TraceArgs): void {
    if (this.events.length >= this.maxEvents * TRACE_STRIDE) {
      this.dropped++;
      return;
    }
    let n = this.nameIds.get(name);
    if (n === undefined) {
      n = this.names.length;
      this.names.push(name);
      this.nameIds.set(name, n);
    }
    let a = -1;
    if (args !== undefined) {
      a = this.args.length;
      this.args.push(args);
    }
    this.events.push(timeNs, type, track, n, a);
  }

  /** The CPU switches to task `id` (-1: idle): the running task's slice ends and the next one's begins. */
  switchTo(id: number, timeNs: number): void {
    if (id === this.running) return;
    if (this.running >= 0) this.add(timeNs, TR_END, TR_CPU_TRACK, '');
    if (id >= 0) this.add(timeNs, TR_BEGIN, TR_CPU_TRACK, this.taskName(id));
    this.running = id;
  }

  report(): CpuTrace {
    return { cpu: this.cpu, events: this.events, names: this.names, args: this.args, dropped: this.dropped };
  }
}
