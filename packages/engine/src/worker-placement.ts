// worker-placement: which simulated CPUs each worker thread hosts, and how many workers a run gets when it does not
// say. The digest is the same for any worker count; only speed depends on it, and an unpinned task's last-level
// cache must be one worker's (balance.ts moves tasks only within a worker's memory).

/** The default worker count: one worker per this many simulated CPUs, on the host's cores but one (left to the main
 * thread and V8's collector and compiler threads), up to WORKERS_DEFAULT_MAX. Measured on the 2-core machine
 * (BENCHMARKS.md, "Performance"), 2 workers against 1 with the parallel commit and long spins, interleaved: 1.2-1.6x
 * for mmap-contention at 16 CPUs, 0.95-1.2x for pft at 16, 0.9-1.1x for nowait-starvation at 4 and 1.0x at 64. The
 * gain depends on how even a scenario's rounds are, so the default does not split small runs. */
export const CPUS_PER_DEFAULT_WORKER = 64;
export const WORKERS_DEFAULT_MAX = 256;

/** Worker threads when the run does not say: never more than the host's cores less one, nor one per
 * CPUS_PER_DEFAULT_WORKER simulated CPUs; at least one. */
export function defaultWorkers(cpus: number, hostCores: number): number {
  return Math.max(1, Math.min(Math.floor(cpus / CPUS_PER_DEFAULT_WORKER), hostCores - 1, WORKERS_DEFAULT_MAX));
}

/** Whether every last-level cache's CPUs (llcOf) are all one worker's (cpusOfWorker). */
export function workersKeepLlcs(workers: number, llcOf: readonly number[]): boolean {
  const host = new Map<number, number>();
  for (let w = 0; w < workers; w++)
    for (const c of cpusOfWorker(llcOf.length, workers, w)) {
      const h = host.get(llcOf[c]!);
      if (h !== undefined && h !== w) return false;
      host.set(llcOf[c]!, w);
    }
  return true;
}

/** Which CPUs a worker hosts: contiguous blocks, as even as possible. */
export function cpusOfWorker(cpus: number, workers: number, w: number): number[] {
  const from = Math.floor((w * cpus) / workers);
  const to = Math.floor(((w + 1) * cpus) / workers);
  return Array.from({ length: to - from }, (_, i) => from + i);
}
