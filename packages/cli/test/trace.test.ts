// `faultline run --trace FILE` as a user runs it: the Perfetto trace, decoded with the schema it was written with
// (@faultline/trace's proto/perfetto-trace.proto) and read again at the wire level against the field numbers
// Perfetto documents, so that a wrong number in the schema file fails here too. Checks the tracks, the slices and
// their nesting, the kernel's tracepoint names, and the counters against the run's own figures.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { perfettoTrace, traceType } from '@faultline/trace';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = fileURLToPath(new URL('../bin/faultline.mjs', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: root });

interface Event {
  type?: number;
  track_uuid?: number;
  name?: string;
  counter_value?: number;
  debug_annotations?: Array<{ name: string; int_value?: number; string_value?: string }>;
}
interface Packet {
  timestamp?: number;
  trusted_packet_sequence_id?: number;
  sequence_flags?: number;
  track_descriptor?: {
    uuid: number;
    name?: string;
    parent_uuid?: number;
    process?: { pid: number; process_name: string };
    thread?: { pid: number; tid: number; thread_name: string };
    counter?: object;
  };
  track_event?: Event;
}

/** The fields of one message at the wire level: field number -> values (bytes for length-delimited ones). */
function wireFields(buf: Uint8Array): Map<number, Array<number | Uint8Array>> {
  const r = protobuf.Reader.create(buf);
  const out = new Map<number, Array<number | Uint8Array>>();
  while (r.pos < r.len) {
    const tag = r.uint32();
    const [field, wire] = [tag >>> 3, tag & 7];
    let v: number | Uint8Array = -1;
    if (wire === 0) v = Number(r.uint64());
    else if (wire === 2) v = r.bytes();
    else if (wire === 1) v = r.double();
    else r.skipType(wire);
    out.set(field, [...(out.get(field) ?? []), v]);
  }
  return out;
}

describe('faultline run --trace', () => {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-trace-'));
  const file = join(dir, 'run.pftrace');
  const args = [
    'run',
    'nowait-starvation',
    '--cpus',
    '2',
    '--duration',
    '5ms',
    '--scan-ns-per-page',
    '1000',
    '--seed',
    'tr',
    // Grace periods of 1-2 ms, so that some end within the 5 ms and the trace has their slices.
    '--hz',
    '1000',
  ];
  const traced = run(...args, '--trace', file, '--json', join(dir, 'run.json'));
  const plain = run(...args);
  const json = () =>
    JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as {
      result: {
        config: { tasks: Array<{ id: number; name: string }> };
        cpus: Array<{ contextSwitches: number }>;
        modules: {
          reclaim: {
            timeline: { bucketNs: number; freeMin: Array<number | null>; watermarks: Record<string, number> };
          };
        };
        traces?: unknown;
      };
    };
  const packets = () =>
    (traceType().toObject(traceType().decode(readFileSync(file)), { longs: Number }) as { packet: Packet[] }).packet;

  it('writes the trace and changes nothing of the run: the same digest as without it', () => {
    expect(traced.status, traced.stderr).toBe(0);
    expect(traced.stdout).toMatch(
      /^trace: .*run\.pftrace \(\d+ slices, \d+ instants, \d+ counter values; open it in ui\.perfetto\.dev\)$/m,
    );
    const digest = (s: string) => s.match(/^digest: (\w+)$/m)![1];
    expect(digest(traced.stdout)).toBe(digest(plain.stdout));
    expect(json().result.traces).toBeUndefined(); // the raw trace stays out of --json
  });

  it('has a track per CPU, a thread per task, and the packets Perfetto needs to read them', () => {
    const p = packets();
    expect(p.every((x) => x.trusted_packet_sequence_id === 1)).toBe(true);
    expect(p[0]!.sequence_flags).toBe(1); // SEQ_INCREMENTAL_STATE_CLEARED
    const d = p.flatMap((x) => (x.track_descriptor ? [x.track_descriptor] : []));
    expect(d.filter((x) => x.process).map((x) => [x.process!.pid, x.process!.process_name])).toEqual([
      [1, 'cpus'],
      [2, 'tasks'],
      [3, 'memory'],
    ]);
    expect(d.filter((x) => x.name?.startsWith('cpu ')).map((x) => x.name)).toEqual(['cpu 0', 'cpu 1']);
    const tasks = json().result.config.tasks;
    expect(d.filter((x) => x.thread).map((x) => [x.thread!.tid, x.thread!.thread_name])).toEqual(
      tasks.map((t) => [1000 + t.id, t.name]),
    );
    expect(d.filter((x) => x.counter).map((x) => x.name)).toEqual([
      'free pages (usable, lowest per bucket)',
      'min watermark',
      'low watermark',
      'high watermark',
    ]);
  });

  it('orders events in time, nests every slice on its track, and names the kernel work as the kernel traces it', () => {
    const p = packets();
    const ev = p.filter((x) => x.track_event);
    for (let i = 1; i < ev.length; i++) expect(ev[i]!.timestamp!).toBeGreaterThanOrEqual(ev[i - 1]!.timestamp!);
    const depth = new Map<number, number>();
    for (const e of ev.map((x) => x.track_event!)) {
      if (e.type === 1) depth.set(e.track_uuid!, (depth.get(e.track_uuid!) ?? 0) + 1);
      if (e.type === 2) {
        depth.set(e.track_uuid!, (depth.get(e.track_uuid!) ?? 0) - 1);
        expect(depth.get(e.track_uuid!)).toBeGreaterThanOrEqual(0);
      }
    }
    for (const n of depth.values()) expect(n).toBe(0);
    const names = new Set(ev.map((x) => x.track_event!.name).filter((n) => n));
    for (const n of [
      'page_fault_user',
      'mm_vmscan_direct_reclaim_begin',
      'mm_page_alloc',
      'mm_vmscan_kswapd_wake',
      'shrink_node',
      'rcu_grace_period',
    ]) {
      expect(names.has(n), n).toBe(true);
    }
    // A direct-reclaim slice's end says what it reclaimed, as mm_vmscan_direct_reclaim_end does.
    const ends = ev
      .map((x) => x.track_event!)
      .filter((e) => e.type === 2 && e.debug_annotations?.[0]?.name === 'nr_reclaimed');
    expect(ends.length).toBeGreaterThan(0);
    // CPU tracks hold task slices named after the tasks: at least one per context switch.
    const cpuSlices = ev.filter(
      (x) => x.track_event!.type === 1 && x.track_event!.track_uuid! >= 100 && x.track_event!.track_uuid! < 1000,
    );
    const tasks = new Set(json().result.config.tasks.map((t) => t.name));
    expect(cpuSlices.every((x) => tasks.has(x.track_event!.name!))).toBe(true);
    const switches = json().result.cpus.reduce((s, c) => s + c.contextSwitches, 0);
    expect(cpuSlices.length).toBeGreaterThanOrEqual(switches);
  });

  it('carries free pages and the watermarks as the run measured them', () => {
    const p = packets();
    const d = p.flatMap((x) => (x.track_descriptor?.counter ? [x.track_descriptor] : []));
    const values = (name: string) => {
      const uuid = d.find((x) => x.name === name)!.uuid;
      return p
        .filter((x) => x.track_event?.track_uuid === uuid)
        .map((x) => [x.timestamp, x.track_event!.counter_value]);
    };
    const tl = json().result.modules.reclaim.timeline;
    // A bucket without a sample (null in the timeline) has no counter value.
    const sampled = tl.freeMin.flatMap((v, k) => (v === null ? [] : [[k * tl.bucketNs, v]]));
    expect(sampled.length).toBeGreaterThan(500);
    expect(values('free pages (usable, lowest per bucket)')).toEqual(sampled);
    expect(new Set(values('min watermark').map((x) => x[1]))).toEqual(new Set([tl.watermarks.minPages]));
    expect(new Set(values('high watermark').map((x) => x[1]))).toEqual(new Set([tl.watermarks.highPages]));
  });

  it('uses the field numbers Perfetto documents (read at the wire level, not through the schema file)', () => {
    // Trace.packet = 1; TracePacket: timestamp = 8, trusted_packet_sequence_id = 10, track_event = 11,
    // sequence_flags = 13, track_descriptor = 60; TrackDescriptor: uuid = 1, process = 3; ProcessDescriptor: pid = 1;
    // TrackEvent: type = 9, track_uuid = 11, name = 23.
    const outer = wireFields(readFileSync(file));
    expect([...outer.keys()]).toEqual([1]);
    const [first, ...rest] = outer.get(1)! as Uint8Array[];
    const f0 = wireFields(first!);
    expect(f0.get(10)).toEqual([1]);
    expect(f0.get(13)).toEqual([1]);
    const desc = wireFields(f0.get(60)![0] as Uint8Array);
    expect(desc.get(1)).toEqual([1]);
    expect(wireFields(desc.get(3)![0] as Uint8Array).get(1)).toEqual([1]);
    const named = rest.map(wireFields).find((f) => f.has(11) && wireFields(f.get(11)![0] as Uint8Array).has(23))!;
    expect(named.has(8)).toBe(true);
    const te = wireFields(named.get(11)![0] as Uint8Array);
    expect(te.get(9)).toEqual([1]); // TYPE_SLICE_BEGIN
    expect(typeof te.get(11)![0]).toBe('number');
  });

  it('refuses a run that was not traced', async () => {
    const { runSimulation } = await import('@faultline/engine');
    const r = await runSimulation({
      cpus: 1,
      seed: 's',
      duration: '10us',
      tasks: [{ module: join(root, 'examples/alloc-churn.ts') }],
    });
    expect(() => perfettoTrace(r)).toThrow(/the run was not traced/);
  });
});
