// Machine topology (topology.ts): the CPUs as the kernel numbers them on each preset, the transfer latency between
// any two, the 'spread' placement, what a run refuses, and that the topology's last-level caches are the ones an
// unpinned task moves within (the same run as llcCpus where they agree, another where they differ); without a
// cost yet charged for lines, a run with pinned tasks is the same run on any topology.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  describeTopology,
  placeOf,
  resolveTopology,
  RunConfigError,
  runSimulation,
  TOPOLOGY_PRESETS,
  transferBetween,
  type RunOptions,
} from '../dist/index.js';

const task = fileURLToPath(new URL('./tasks/balance.mjs', import.meta.url));

describe('topology presets', () => {
  it('number CPUs as the kernel does: first threads socket by socket, then their siblings', () => {
    const ice = TOPOLOGY_PRESETS['icelake-2s'];
    expect(placeOf(ice, 0)).toEqual({ socket: 0, core: 0, thread: 0, llc: 0 });
    expect(placeOf(ice, 32)).toEqual({ socket: 1, core: 32, thread: 0, llc: 1 });
    expect(placeOf(ice, 64)).toEqual({ socket: 0, core: 0, thread: 1, llc: 0 });
    expect(placeOf(ice, 127)).toEqual({ socket: 1, core: 63, thread: 1, llc: 1 });
    expect([transferBetween(ice, 0, 0), transferBetween(ice, 0, 64), transferBetween(ice, 0, 31)]).toEqual([0, 8, 51]);
    expect(transferBetween(ice, 0, 32)).toBe(108);
    expect(transferBetween(ice, 95, 32)).toBe(108); // a sibling on socket 0 and a core on socket 1
    const zen = TOPOLOGY_PRESETS['zen4-2s'];
    // Eight-core CCXs with consecutive numbers; 192 cores, so CPU 192 is CPU 0's sibling.
    expect([transferBetween(zen, 0, 7), transferBetween(zen, 0, 8), transferBetween(zen, 0, 96)]).toEqual([
      27, 99, 192,
    ]);
    expect(transferBetween(zen, 0, 192)).toBe(10);
    expect(placeOf(zen, 8).llc).toBe(1);
    expect(placeOf(zen, 96).llc).toBe(12);
    const desk = TOPOLOGY_PRESETS['desktop-1s'];
    expect([transferBetween(desk, 3, 19), transferBetween(desk, 0, 7), transferBetween(desk, 0, 8)]).toEqual([
      7.8, 18, 85,
    ]);
    for (const t of Object.values(TOPOLOGY_PRESETS)) {
      expect(t.coresPerSocket % t.coresPerLlc).toBe(0);
      expect(t.source.length).toBeGreaterThan(10);
      const x = t.transferNs;
      expect(x.smt).toBeLessThan(x.llc);
      expect(x.llc).toBeLessThanOrEqual(x.socket);
      expect(x.socket).toBeLessThanOrEqual(x.remote);
    }
  });

  it("places a run's CPUs: the machine's first n, spread over sockets and LLCs, or a list", () => {
    const issues: string[] = [];
    expect(resolveTopology('icelake-2s', 4, issues)!.cpus).toEqual([0, 1, 2, 3]);
    // Spread: a socket at a time, within it an LLC at a time; siblings only after every core.
    expect(resolveTopology({ preset: 'icelake-2s', placement: 'spread' }, 4, issues)!.cpus).toEqual([0, 32, 1, 33]);
    expect(resolveTopology({ preset: 'zen4-2s', placement: 'spread' }, 4, issues)!.cpus).toEqual([0, 96, 8, 104]);
    // socket-first: a socket's 32 cores, then their siblings (64..95), then the other socket's cores (32..).
    const sf = resolveTopology({ preset: 'icelake-2s', placement: 'socket-first' }, 66, issues)!.cpus;
    expect(sf.slice(0, 2)).toEqual([0, 1]);
    expect(sf.slice(31, 34)).toEqual([31, 64, 65]);
    expect(sf.slice(63, 66)).toEqual([95, 32, 33]);
    const all = resolveTopology({ preset: 'desktop-1s', placement: 'spread' }, 32, issues)!.cpus;
    expect(new Set(all).size).toBe(32);
    expect(all.slice(0, 16).every((c) => c < 16)).toBe(true);
    expect(resolveTopology({ preset: 'desktop-1s', placement: [3, 19] }, 2, issues)!.cpus).toEqual([3, 19]);
    expect(issues).toEqual([]);
    const t = resolveTopology({ preset: 'icelake-2s', placement: 'spread' }, 4, issues)!;
    expect(describeTopology(t).join('\n')).toMatch(/machine's 0,32,1,33 \(spread\): 2 socket\(s\), 2 LLC\(s\)/);
  });

  it('refuses what does not fit, naming what is allowed', () => {
    const why = (spec: Parameters<typeof resolveTopology>[0], cpus: number) => {
      const issues: string[] = [];
      resolveTopology(spec, cpus, issues);
      return issues.join('; ');
    };
    expect(why('desktop-1s', 40)).toMatch(/cpus: 40 is more than the desktop-1s machine's 32 CPUs; allowed: 1 .. 32/);
    expect(why({ preset: 'desktop-1s', placement: [0, 40] }, 2)).toMatch(/CPU 40 is not on the machine/);
    expect(why({ preset: 'desktop-1s', placement: [1, 1] }, 2)).toMatch(/listed twice/);
    expect(why({ preset: 'desktop-1s', placement: [1] }, 2)).toMatch(/1 CPUs listed for a run of 2/);
    expect(why({ preset: 'desktop-1s', coresPerLlc: 5 }, 2)).toMatch(
      /coresPerLlc: 5 does not divide coresPerSocket 16/,
    );
    expect(why({ sockets: 1 }, 2)).toMatch(/coresPerSocket, threadsPerCore, coresPerLlc, transferNs missing/);
  });
});

const wakes = (o: Partial<RunOptions>): RunOptions => ({
  cpus: 16,
  seed: 'topology',
  duration: '2ms',
  window: '2us',
  memoryMiB: 8,
  memoryLayout: 'one-zone',
  tasks: [
    // The first eight CPUs busy: a sleeper woken behind CPU 7's hog finds an idle CPU only beyond them.
    { module: task, export: 'hog', cpus: [0, 1, 2, 3, 4, 5, 6, 7], args: { ns: 2_000_000 } },
    { module: task, export: 'sleeper', cpus: [7], pinned: false, args: { rounds: 20 } },
  ],
  ...o,
});

describe('a run on a topology', () => {
  it("moves unpinned tasks within the topology's last-level caches", async () => {
    // The desktop's two CCXs are the run's CPUs 0-7 and 8-15: the same run as llcCpus 8, and another than one LLC.
    const [ccx, llc8, one] = await Promise.all([
      runSimulation(wakes({ topology: 'desktop-1s', workers: 2 })),
      runSimulation(wakes({ llcCpus: 8, workers: 1 })),
      runSimulation(wakes({ workers: 1 })),
    ]);
    for (const r of [ccx, llc8, one]) expect(r.error).toBeNull();
    expect(ccx.digest).toBe(llc8.digest);
    expect(ccx.digest).not.toBe(one.digest);
    const sleeper = (r: typeof ccx) => r.tasks.find((t) => t.name.includes('sleeper'))!;
    expect(sleeper(ccx).migrations).toBe(0); // its CCX has no idle CPU
    expect(sleeper(one).migrations).toBeGreaterThan(0);
    expect(ccx.config.llcOf).toEqual([...Array(8).fill(0), ...Array(8).fill(1)]);
    // Spread over both CCXs, the LLCs interleave: a worker count that splits one is refused by name.
    await expect(
      runSimulation(wakes({ topology: { preset: 'desktop-1s', placement: 'spread' }, workers: 2 })),
    ).rejects.toThrow(/workers: 2 would split a last-level cache \(the topology\).*allowed: 1/);
    await expect(runSimulation(wakes({ topology: 'desktop-1s', llcCpus: 8 }))).rejects.toThrow(RunConfigError);
  });

  it('changes nothing for pinned tasks while no line is charged', async () => {
    const pinned = (o: Partial<RunOptions>) =>
      wakes({ ...o, tasks: [{ module: task, export: 'sleeper', cpus: [0, 8, 15], args: { rounds: 20 } }] });
    const [flat, ice] = await Promise.all([
      runSimulation(pinned({})),
      runSimulation(pinned({ topology: { preset: 'icelake-2s', placement: 'spread' } })),
    ]);
    expect(ice.digest).toBe(flat.digest);
    expect(ice.config.topology!.cpus.slice(0, 4)).toEqual([0, 32, 1, 33]);
  });
});

const readers = (o: Partial<RunOptions>): RunOptions => ({
  cpus: 2,
  seed: 'lines',
  duration: '2ms',
  window: '2us',
  memoryMiB: 8,
  memoryLayout: 'one-zone',
  locks: { sem: { kind: 'rwsem' } },
  tasks: [
    {
      module: fileURLToPath(new URL('./tasks/lines.mjs', import.meta.url)),
      export: 'reader',
      cpus: [0, 1],
      args: { rounds: 5_000 }, // more than 2 ms of rounds: the run ends them
    },
  ],
  ...o,
});

describe("lock words' cache lines (coherence: 'lines')", () => {
  it('charge each move of a lock word between CPUs the topology transfer, by distance', async () => {
    // Two readers of one rwsem, each taking and releasing it every 2 us: the word's line moves at every take after the
    // other CPU's release; sparse, so nothing queues and a move costs the transfer alone.
    const [remote, siblings, off] = await Promise.all([
      runSimulation(readers({ topology: { preset: 'icelake-2s', placement: [0, 32] }, coherence: 'lines' })),
      runSimulation(readers({ topology: { preset: 'icelake-2s', placement: [0, 64] }, coherence: 'lines' })),
      runSimulation(readers({ topology: { preset: 'icelake-2s', placement: [0, 32] } })),
    ]);
    for (const r of [remote, siblings, off]) expect(r.error).toBeNull();
    const lines = (r: typeof remote) => r.locks!.lines!;
    expect(off.locks!.lines).toBeUndefined(); // off by default
    expect(lines(remote).transfers).toBeGreaterThan(500);
    expect(lines(remote).byDistance.remote).toBe(lines(remote).transfers);
    expect(lines(siblings).byDistance.smt).toBe(lines(siblings).transfers);
    const perMove = (r: typeof remote) => lines(r).stallNs / lines(r).transfers;
    expect(perMove(remote)).toBeGreaterThanOrEqual(108);
    expect(perMove(remote)).toBeLessThan(108 * 1.5);
    expect(perMove(siblings)).toBeGreaterThanOrEqual(8);
    expect(perMove(siblings)).toBeLessThan(8 * 1.5);
    // The waits slow the readers: fewer rounds done across sockets than without lines.
    const rounds = (r: typeof remote) => r.tasks.reduce((s, t) => s + (t.locks?.sem?.acquired ?? 0), 0);
    expect(rounds(remote)).toBeLessThan(rounds(off));
  });

  it('give the same run on any number of workers, and refuse lines without a topology', async () => {
    const o = readers({ cpus: 4, tasks: readers({}).tasks.map((t) => ({ ...t, cpus: [0, 1, 2, 3] })) });
    const lined = {
      ...o,
      topology: { preset: 'icelake-2s' as const, placement: 'spread' as const },
      coherence: 'lines' as const,
    };
    const [one, two] = await Promise.all([
      runSimulation({ ...lined, workers: 1 }),
      runSimulation({ ...lined, workers: 2 }),
    ]);
    expect(one.locks!.lines!.transfers).toBeGreaterThan(0);
    expect(two.digest).toBe(one.digest);
    await expect(runSimulation({ ...o, coherence: 'lines' })).rejects.toThrow(/coherence: 'lines' needs a topology/);
  });

  it('serve reads of a line from shared copies: free until another CPU writes it', async () => {
    const lines = fileURLToPath(new URL('./tasks/lines.mjs', import.meta.url));
    const run = (tasks: RunOptions['tasks']) =>
      runSimulation({
        ...readers({}),
        cpus: 2,
        locks: { counter: { kind: 'line' } },
        tasks,
        duration: '10ms',
        topology: { preset: 'icelake-2s', placement: [0, 32] },
        coherence: 'lines',
      });
    const [readOnly, readWrite] = await Promise.all([
      // Two sockets reading a line nobody writes: each fetches nothing (no writer yet), then holds its copy.
      run([{ module: lines, export: 'looker', cpus: [0, 1], args: { rounds: 2_000 } }]),
      // One socket writes after each read, the other reads: each read on the reader's socket fetches the line.
      run([
        { module: lines, export: 'looker', name: 'writer', cpus: [0], args: { rounds: 2_000, write: true } },
        { module: lines, export: 'looker', name: 'reader', cpus: [1], args: { rounds: 2_000 } },
      ]),
    ]);
    expect(readOnly.error).toBeNull();
    expect(readOnly.locks!.lines!.transfers).toBe(0);
    expect(readWrite.error).toBeNull();
    expect(readWrite.tasks.every((t) => t.exitedAtNs !== null)).toBe(true);
    const l = readWrite.locks!.lines!;
    // Every move is between the sockets: a read miss and a write's invalidation per round, the writer's own reads
    // of its copy free.
    expect(l.byDistance.remote).toBe(l.transfers);
    expect(l.transfers).toBeGreaterThan(1.8 * 2_000);
    expect(l.transfers).toBeLessThanOrEqual(2 * 2_000);
    expect(l.stallNs / l.transfers).toBeGreaterThanOrEqual(108);
  });

  it("charge a user's own line (ctx.atomic on a lock of kind 'line'), and nothing without lines", async () => {
    const bumpers = (o: Partial<RunOptions>): RunOptions =>
      readers({
        locks: { counter: { kind: 'line' } },
        tasks: [
          {
            module: fileURLToPath(new URL('./tasks/lines.mjs', import.meta.url)),
            export: 'bumper',
            cpus: [0, 1],
            args: { rounds: 5_000 },
          },
        ],
        ...o,
      });
    const ice = { preset: 'icelake-2s' as const, placement: [0, 32] };
    const [lined, free] = await Promise.all([
      runSimulation(bumpers({ topology: ice, coherence: 'lines' })),
      runSimulation(bumpers({ topology: ice })),
    ]);
    expect(lined.error).toBeNull();
    expect(lined.locks!.lines!.byDistance.remote).toBe(lined.locks!.lines!.transfers);
    expect(lined.locks!.lines!.transfers).toBeGreaterThan(1000);
    const perMove = lined.locks!.lines!.stallNs / lined.locks!.lines!.transfers;
    expect(perMove).toBeGreaterThanOrEqual(108);
    expect(perMove).toBeLessThan(108 * 1.5);
    // A line is not a lock, nor a lock a line: each misuse is named.
    const misuse = await runSimulation(
      bumpers({
        tasks: [{ module: fileURLToPath(new URL('./tasks/lines.mjs', import.meta.url)), export: 'misuse', cpus: [0] }],
      }),
    );
    expect(misuse.error?.message).toMatch(/'counter' is a line, not a lock: ctx.atomic\('counter'\) updates it/);
    expect(free.locks?.lines).toBeUndefined();
  });
});
