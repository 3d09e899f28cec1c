// topology: the machine's CPUs as the kernel numbers them - sockets, cores per socket, SMT threads per core, and
// the last-level caches the cores share (a socket's L3 on Intel, a core complex on AMD) - and what moving a cache
// line between two CPUs costs there, from measured core-to-core latencies (docs/kernel-notes/core-latencies.md).
//
// Numbering (arch/x86 as the firmware's tables enumerate it on the machines measured): the first thread of every
// core, socket by socket, then the second threads in the same order; the cores of an LLC have consecutive numbers.
// So on the 2-socket Ice Lake, CPU 0 and CPU 64 are SMT siblings and CPU 32 is on the second socket.
// A run of n CPUs sits on n of the machine's: by default its CPU k is the machine's CPU k ('kernel'), or
// 'socket-first' (a socket's cores, then their SMT siblings, before the next socket: where the scheduler keeps a
// process's threads while its NUMA imbalance allowance lets it, near their memory), or 'spread'
// (one per socket in turn, then per LLC, SMT siblings last: where a scheduler spreading a process's threads over
// idle cores puts them), or an explicit list (taskset's).
import { z } from 'zod';

/** A cache-line transfer's latency between two CPUs, in ns: half a CAS ping-pong round trip, the machine idle. */
export interface TransferNs {
  /** SMT siblings (one core's L1 and L2). */
  readonly smt: number;
  /** Two cores of one last-level cache. */
  readonly llc: number;
  /** Two cores of one socket, different last-level caches (AMD's core complexes); equal to llc where one LLC is a
   * whole socket. */
  readonly socket: number;
  /** Two sockets. */
  readonly remote: number;
}

export interface Topology {
  /** The preset's name, or 'custom'. */
  readonly name: string;
  /** The CPU measured (or described). */
  readonly model: string;
  readonly sockets: number;
  readonly coresPerSocket: number;
  readonly threadsPerCore: number;
  /** Cores sharing one last-level cache (coresPerSocket where a socket has one L3). */
  readonly coresPerLlc: number;
  readonly transferNs: TransferNs;
  /** Where the latencies come from. */
  readonly source: string;
}

const CORE_TO_CORE = 'nviennot/core-to-core-latency';

/** The machines faultline knows, each with its measurements (medians over every CPU pair of its matrix). */
export const TOPOLOGY_PRESETS = {
  'icelake-2s': {
    name: 'icelake-2s',
    model: 'Intel Xeon Platinum 8375C (Ice Lake-SP, AWS c6i.metal)',
    sockets: 2,
    coresPerSocket: 32,
    threadsPerCore: 2,
    coresPerLlc: 32,
    transferNs: { smt: 8, llc: 51, socket: 51, remote: 108 },
    source: `${CORE_TO_CORE}, results/Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz.csv`,
  },
  'broadwell-2s': {
    name: 'broadwell-2s',
    model: 'Intel Xeon E5-2695 v4 (Broadwell-EP)',
    sockets: 2,
    coresPerSocket: 18,
    threadsPerCore: 2,
    coresPerLlc: 18,
    transferNs: { smt: 7.6, llc: 44, socket: 44, remote: 118 },
    source: `${CORE_TO_CORE}, results/Intel(R) Xeon(R) CPU E5-2695 v4 @ 2.10GHz.csv`,
  },
  'zen4-2s': {
    name: 'zen4-2s',
    model: 'AMD EPYC 9654 (Zen 4 Genoa, 8-core CCX)',
    sockets: 2,
    coresPerSocket: 96,
    threadsPerCore: 2,
    coresPerLlc: 8,
    transferNs: { smt: 10, llc: 27, socket: 99, remote: 192 },
    source:
      `${CORE_TO_CORE} issue #89 (Dual AMD EPYC 9654, SMT off; KCORES/core-to-core-latency-plus results/); ` +
      'the SMT figure from a Dual EPYC 9454 (PR #101)',
  },
  'desktop-1s': {
    name: 'desktop-1s',
    model: 'AMD Ryzen 9 5950X (Zen 3, two 8-core CCDs)',
    sockets: 1,
    coresPerSocket: 16,
    threadsPerCore: 2,
    coresPerLlc: 8,
    transferNs: { smt: 7.8, llc: 18, socket: 85, remote: 85 },
    source: `${CORE_TO_CORE}, results/AMD Ryzen 9 5950X @ 3.40 GHz.csv`,
  },
} as const satisfies Record<string, Topology>;

export type TopologyPreset = keyof typeof TOPOLOGY_PRESETS;
export const TOPOLOGY_NAMES = Object.keys(TOPOLOGY_PRESETS) as TopologyPreset[];
export const PLACEMENTS = ['kernel', 'spread', 'socket-first'] as const;
export type Placement = (typeof PLACEMENTS)[number];

const ns = z.number().min(0).max(10_000);
/** A run's topology: a preset's name, or a description (a preset's fields changed, or a machine of its own). */
export const topologySchema = z.union([
  z.enum(TOPOLOGY_NAMES as [TopologyPreset, ...TopologyPreset[]]),
  z
    .object({
      preset: z.enum(TOPOLOGY_NAMES as [TopologyPreset, ...TopologyPreset[]]).optional(),
      model: z.string().min(1).max(200).optional(),
      sockets: z.number().int().min(1).max(16).optional(),
      coresPerSocket: z.number().int().min(1).max(1024).optional(),
      threadsPerCore: z.number().int().min(1).max(8).optional(),
      coresPerLlc: z.number().int().min(1).max(1024).optional(),
      transferNs: z.object({ smt: ns, llc: ns, socket: ns, remote: ns }).strict().optional(),
      source: z.string().min(1).max(500).optional(),
      /** Which of the machine's CPUs the run's are: 'kernel' (CPU k is the machine's k), 'spread', or a list. */
      placement: z.union([z.enum(PLACEMENTS), z.array(z.number().int().min(0)).min(1)]).optional(),
    })
    .strict(),
]);
export type TopologySpec = z.input<typeof topologySchema>;

/** Where one of the machine's CPUs sits. */
export interface CpuPlace {
  readonly socket: number;
  /** The core's number on the machine (0 .. sockets x coresPerSocket - 1). */
  readonly core: number;
  readonly thread: number;
  /** The last-level cache's number on the machine. */
  readonly llc: number;
}

/** A run's topology: the machine, and where each of the run's CPUs sits on it. */
export interface RunTopology {
  readonly machine: Topology;
  readonly placement: Placement | 'list';
  /** The machine's CPU number of each of the run's CPUs. */
  readonly cpus: readonly number[];
}

export function machineCpus(t: Topology): number {
  return t.sockets * t.coresPerSocket * t.threadsPerCore;
}

/** Where the machine's CPU `cpu` sits, as the kernel numbers them. */
export function placeOf(t: Topology, cpu: number): CpuPlace {
  const cores = t.sockets * t.coresPerSocket;
  const core = cpu % cores;
  const socket = Math.floor(core / t.coresPerSocket);
  const llcsPerSocket = t.coresPerSocket / t.coresPerLlc;
  const llc = socket * llcsPerSocket + Math.floor((core % t.coresPerSocket) / t.coresPerLlc);
  return { socket, core, thread: Math.floor(cpu / cores), llc };
}

/** How far apart two different CPUs of the machine are: the kind of transfer a line makes between them. */
export function distanceBetween(t: Topology, a: number, b: number): keyof TransferNs {
  const [p, q] = [placeOf(t, a), placeOf(t, b)];
  if (p.core === q.core) return 'smt';
  if (p.llc === q.llc) return 'llc';
  return p.socket === q.socket ? 'socket' : 'remote';
}

/** A cache line's transfer between two of the machine's CPUs, in ns (0 on the same CPU). */
export function transferBetween(t: Topology, a: number, b: number): number {
  return a === b ? 0 : t.transferNs[distanceBetween(t, a, b)];
}

/** The 'spread' order of the machine's CPUs: a socket at a time in turn, within it an LLC at a time in turn, the
 * first threads of every core before any sibling. */
function spreadOrder(t: Topology): number[] {
  const llcs = t.coresPerSocket / t.coresPerLlc;
  const out: number[] = [];
  for (let thread = 0; thread < t.threadsPerCore; thread++)
    for (let i = 0; i < t.coresPerSocket; i++)
      for (let s = 0; s < t.sockets; s++) {
        const core = (i % llcs) * t.coresPerLlc + Math.floor(i / llcs);
        out.push(thread * t.sockets * t.coresPerSocket + s * t.coresPerSocket + core);
      }
  return out;
}

/** The 'socket-first' order: a socket's cores, then their SMT siblings, then the next socket's. */
function socketFirstOrder(t: Topology): number[] {
  const cores = t.sockets * t.coresPerSocket;
  const out: number[] = [];
  for (let s = 0; s < t.sockets; s++)
    for (let thread = 0; thread < t.threadsPerCore; thread++)
      for (let i = 0; i < t.coresPerSocket; i++) out.push(thread * cores + s * t.coresPerSocket + i);
  return out;
}

/** Resolve a run's topology for `cpus` CPUs; problems go to `issues`, each naming the field and what is allowed. */
export function resolveTopology(spec: TopologySpec, cpus: number, issues: string[]): RunTopology | null {
  const given = typeof spec === 'string' ? { preset: spec } : spec;
  const base: Topology | undefined = given.preset ? TOPOLOGY_PRESETS[given.preset] : undefined;
  const fields = ['sockets', 'coresPerSocket', 'threadsPerCore', 'coresPerLlc', 'transferNs'] as const;
  const missing = base ? [] : fields.filter((f) => given[f] === undefined);
  if (missing.length > 0) {
    issues.push(
      `topology: ${missing.join(', ')} missing; give a preset (${TOPOLOGY_NAMES.join(', ')}) or every field of a machine`,
    );
    return null;
  }
  const { placement: _, preset: __, ...own } = given;
  const machine: Topology = {
    ...(base ?? { name: 'custom', model: 'custom', source: 'given' }),
    ...own,
    ...(base && Object.keys(own).length > 0 ? { name: `${base.name} (changed)` } : {}),
  } as Topology;
  if (machine.coresPerSocket % machine.coresPerLlc !== 0) {
    issues.push(
      `topology.coresPerLlc: ${machine.coresPerLlc} does not divide coresPerSocket ${machine.coresPerSocket}; ` +
        'allowed: a divisor of it',
    );
    return null;
  }
  const total = machineCpus(machine);
  const placement = given.placement ?? 'kernel';
  let on: number[];
  if (Array.isArray(placement)) {
    on = [...placement];
    const bad = on.filter((c) => c >= total);
    if (bad.length > 0)
      issues.push(`topology.placement: CPU ${bad[0]} is not on the machine; allowed: 0 .. ${total - 1}`);
    if (new Set(on).size !== on.length) issues.push('topology.placement: a CPU is listed twice');
    if (on.length !== cpus)
      issues.push(`topology.placement: ${on.length} CPUs listed for a run of ${cpus}; allowed: exactly ${cpus}`);
  } else {
    if (cpus > total)
      issues.push(`cpus: ${cpus} is more than the ${machine.name} machine's ${total} CPUs; allowed: 1 .. ${total}`);
    const order =
      placement === 'spread'
        ? spreadOrder(machine)
        : placement === 'socket-first'
          ? socketFirstOrder(machine)
          : Array.from({ length: total }, (_, c) => c);
    on = order.slice(0, cpus);
  }
  return { machine, placement: Array.isArray(placement) ? 'list' : placement, cpus: on };
}

/** The last-level cache of each of the run's CPUs (numbered as the machine numbers them). */
export function llcsOf(t: RunTopology): number[] {
  return t.cpus.map((c) => placeOf(t.machine, c).llc);
}

/** The topology in a few lines, for run headers and `scenario show`; `coherence` says whether lines are charged. */
export function describeTopology(t: RunTopology, coherence: 'lines' | 'off' = 'off'): string[] {
  const m = t.machine;
  const x = m.transferNs;
  const llc = m.coresPerLlc === m.coresPerSocket ? 'one LLC a socket' : `an LLC of ${m.coresPerLlc} cores`;
  const ranges: string[] = [];
  for (let i = 0; i < t.cpus.length; ) {
    let j = i;
    while (j + 1 < t.cpus.length && t.cpus[j + 1] === t.cpus[j]! + 1) j++;
    ranges.push(i === j ? `${t.cpus[i]}` : `${t.cpus[i]}-${t.cpus[j]}`);
    i = j + 1;
  }
  const sockets = new Set(t.cpus.map((c) => placeOf(m, c).socket)).size;
  const llcs = new Set(llcsOf(t)).size;
  return [
    `topology: ${m.name}: ${m.model}; ${m.sockets} socket(s) x ${m.coresPerSocket} cores x ${m.threadsPerCore} ` +
      `threads (${machineCpus(m)} CPUs), ${llc}`,
    `  line transfers (ns): SMT ${x.smt}, LLC ${x.llc}, socket ${x.socket}, remote ${x.remote} (${m.source}); ` +
      (coherence === 'lines' ? "charged to lock words' atomics (coherence lines)" : 'not charged (coherence off)'),
    `  the run's CPUs are the machine's ${ranges.join(',')} (${t.placement}): ${sockets} socket(s), ${llcs} LLC(s)`,
  ];
}
