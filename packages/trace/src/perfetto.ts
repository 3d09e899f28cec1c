// perfetto: a traced run (RunOptions.trace) as a Perfetto trace - protobuf TracePackets of TrackDescriptors and
// TrackEvents, encoded with protobufjs from proto/perfetto-trace.proto (Perfetto's own messages and field numbers),
// so that ui.perfetto.dev and trace_processor open it. The tracks:
//   process "cpus" (pid 1)   a track per simulated CPU: a slice per task while it runs there (sched_switch)
//   process "tasks" (pid 2)  a thread per task (tid 1000 + its number): its kernel work as the kernel's tracepoints
//                            name it - page_fault_user, mm_vmscan_direct_reclaim_begin, contention_begin (slices),
//                            mm_page_alloc and mm_vmscan_kswapd_wake (instants), shrink_node (kswapd's passes)
//   "rcu"                    rcu_grace_period slices, from the RCU module's grace periods
//   process "memory" (pid 3) counter tracks: usable free pages (the lowest in each timeline bucket) and the node's
//                            min, low and high watermarks
// Times are simulated nanoseconds. Slices still open when the run ended are closed at its end.
import { readFileSync } from 'node:fs';
import {
  reportOf,
  type RunResult,
  TR_BEGIN,
  TR_CPU_TRACK,
  TR_END,
  TR_INSTANT,
  TRACE_STRIDE,
  type TraceArgs,
} from '@faultline/engine';
import { RECLAIM } from '@faultline/reclaim';
import protobuf from 'protobufjs';

export const PROTO_PATH = new URL('../proto/perfetto-trace.proto', import.meta.url);
const TYPE = { begin: 1, end: 2, instant: 3, counter: 4 } as const;
const SEQUENCE = 1;
const SEQ_INCREMENTAL_STATE_CLEARED = 1;
export const PID = { cpus: 1, tasks: 2, memory: 3 } as const;
export const TID_BASE = 1000;
const UUID = { cpus: 1, tasks: 2, memory: 3, rcu: 4, cpu: 100, task: 100_000, counter: 50 } as const;

let root: protobuf.Root | null = null;
/** Perfetto's Trace message, as protobufjs reads it from the schema file. */
export function traceType(): protobuf.Type {
  root ??= protobuf.parse(readFileSync(PROTO_PATH, 'utf8'), { keepCase: true }).root;
  return root.lookupType('perfetto.protos.Trace');
}

interface Packet {
  timestamp?: number;
  trusted_packet_sequence_id: number;
  sequence_flags?: number;
  track_descriptor?: Record<string, unknown>;
  track_event?: Record<string, unknown>;
}

function annotations(args: TraceArgs | undefined): Array<Record<string, unknown>> | undefined {
  if (!args) return undefined;
  return Object.entries(args).map(([name, v]) =>
    typeof v === 'string'
      ? { name, string_value: v }
      : Number.isInteger(v)
        ? { name, int_value: v }
        : { name, double_value: v },
  );
}

export interface PerfettoSummary {
  readonly packets: number;
  readonly slices: number;
  readonly instants: number;
  readonly counters: number;
  /** Events a CPU could not keep (its bound, RunOptions.trace.maxEventsPerCpu). */
  readonly dropped: number;
}

/** The run as a Perfetto trace file's bytes, and what went into it. */
export function perfettoTrace(r: RunResult): { bytes: Uint8Array; summary: PerfettoSummary } {
  if (!r.config.traceMaxEvents)
    throw new Error('the run was not traced: run it with trace: true (faultline run --trace FILE)');
  const endNs = r.simulatedNs;
  const head: Packet[] = [];
  const events: Packet[] = [];
  const seq = { trusted_packet_sequence_id: SEQUENCE };
  const describe = (d: Record<string, unknown>) => head.push({ ...seq, track_descriptor: d });
  describe({ uuid: UUID.cpus, process: { pid: PID.cpus, process_name: 'cpus' } });
  describe({ uuid: UUID.tasks, process: { pid: PID.tasks, process_name: 'tasks' } });
  describe({ uuid: UUID.memory, process: { pid: PID.memory, process_name: 'memory' } });
  head[0]!.sequence_flags = SEQ_INCREMENTAL_STATE_CLEARED;
  for (let c = 0; c < r.config.cpus; c++) describe({ uuid: UUID.cpu + c, parent_uuid: UUID.cpus, name: `cpu ${c}` });
  for (const t of r.config.tasks) {
    describe({ uuid: UUID.task + t.id, thread: { pid: PID.tasks, tid: TID_BASE + t.id, thread_name: t.name } });
  }
  let slices = 0;
  let instants = 0;
  let counters = 0;
  const event = (timestamp: number, e: Record<string, unknown>) => events.push({ ...seq, timestamp, track_event: e });
  // Per track, the slices open, so that each END has its BEGIN and the run's end closes what is left.
  const open = new Map<number, number>();
  for (const ct of r.traces) {
    for (let i = 0; i < ct.events.length; i += TRACE_STRIDE) {
      const [time, type, track, name, args] = ct.events.slice(i, i + TRACE_STRIDE) as [
        number,
        number,
        number,
        number,
        number,
      ];
      const uuid = track === TR_CPU_TRACK ? UUID.cpu + ct.cpu : UUID.task + track;
      const debug = annotations(args >= 0 ? ct.args[args] : undefined);
      if (type === TR_BEGIN) {
        open.set(uuid, (open.get(uuid) ?? 0) + 1);
        slices++;
        event(time, {
          type: TYPE.begin,
          track_uuid: uuid,
          name: ct.names[name],
          ...(debug ? { debug_annotations: debug } : {}),
        });
      } else if (type === TR_END) {
        if (!open.get(uuid)) continue;
        open.set(uuid, open.get(uuid)! - 1);
        event(time, { type: TYPE.end, track_uuid: uuid, ...(debug ? { debug_annotations: debug } : {}) });
      } else if (type === TR_INSTANT) {
        instants++;
        event(time, {
          type: TYPE.instant,
          track_uuid: uuid,
          name: ct.names[name],
          ...(debug ? { debug_annotations: debug } : {}),
        });
      }
    }
  }
  for (const [uuid, n] of open) for (let k = 0; k < n; k++) event(endNs, { type: TYPE.end, track_uuid: uuid });
  // RCU's grace periods, from the module's trace report.
  const gps = (r.moduleTraces.rcu as { gracePeriods?: number[] } | undefined)?.gracePeriods ?? [];
  if (gps.length > 0) describe({ uuid: UUID.rcu, name: 'rcu grace periods' });
  for (let i = 0; i + 1 < gps.length; i += 2) {
    slices++;
    event(gps[i]!, { type: TYPE.begin, track_uuid: UUID.rcu, name: 'rcu_grace_period' });
    event(gps[i + 1]!, { type: TYPE.end, track_uuid: UUID.rcu });
  }
  // Free pages against the watermarks, from the reclaim module's timeline.
  const timeline = reportOf(r, RECLAIM)?.timeline;
  if (timeline) {
    const w = timeline.watermarks;
    const lines: Array<[string, (k: number) => number | null]> = [
      ['free pages (usable, lowest per bucket)', (k) => timeline.freeMin[k]!],
      ['min watermark', () => w.minPages],
      ['low watermark', () => w.lowPages],
      ['high watermark', () => w.highPages],
    ];
    lines.forEach(([name, value], j) => {
      const uuid = UUID.counter + j;
      describe({ uuid, parent_uuid: UUID.memory, name, counter: {} });
      for (let k = 0; k < timeline.freeMin.length; k++) {
        const v = value(k);
        if (v === null || timeline.freeMin[k] === null) continue; // a bucket with no sample
        counters++;
        event(k * timeline.bucketNs, { type: TYPE.counter, track_uuid: uuid, counter_value: v });
      }
    });
  }
  // In time order (a stable sort keeps each track's begin before its end at equal times).
  events.sort((a, b) => a.timestamp! - b.timestamp!);
  const packets = [...head, ...events];
  const T = traceType();
  const bytes = T.encode(T.fromObject({ packet: packets })).finish();
  const dropped = r.traces.reduce((s, t) => s + t.dropped, 0);
  return { bytes, summary: { packets: packets.length, slices, instants, counters, dropped } };
}
