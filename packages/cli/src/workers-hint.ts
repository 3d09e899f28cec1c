// workers-hint: after a run, the lines that say what its worker threads cost or were fitted to. When the host's
// cores were busy at the start, the run started fewer workers than asked (RunHost.followLoad, the engine's
// host-load.ts) and says so. When a run split over several workers waited long at the window barriers - because
// another worker's CPUs had more to do that round, or another worker was off its core on a busy host - it says that
// the split cost more than it gave. Measured from the run's own host figures (result.host).
import type { RunResult } from '@faultline/engine';

/** Above this share of the loop spent waiting at window barriers, the hint is printed. */
export const BARRIER_SHARE_HINT = 0.3;

/** The lines for a run's host figures: none when it ran the workers asked and they seldom waited. */
export function workersHint(host: RunResult['host']): string[] {
  const out: string[] = [];
  const load = host.load;
  if (load && host.workers < load.asked) {
    const others = load.othersRunning;
    const why =
      others === 0
        ? `the host has ${load.hostCores} cores`
        : `${others} thread${others === 1 ? '' : 's'} of other processes ${others === 1 ? 'was' : 'were'} ` +
          `running on the host's ${load.hostCores} cores at the start`;
    out.push(
      `host: ${host.workers} worker${host.workers === 1 ? '' : 's'} of the ${load.asked} asked: ${why} ` +
        '(--no-follow-load starts them all); the results are the same',
    );
  }
  if (host.workers <= 1 || host.loopMs <= 0 || host.phases.length === 0) return out;
  const waited = Math.max(...host.phases.map((p) => p.barrierMs));
  const share = waited / host.loopMs;
  if (share < BARRIER_SHARE_HINT) return out;
  const sleeps = host.phases.reduce((n, p) => n + p.barrierSleeps, 0);
  const sleptMs = host.phases.reduce((n, p) => n + p.barrierSleptMs, 0);
  const slept =
    sleeps > 0 ? `; ${sleeps} waits outlasted the spin and slept, ${(sleptMs / sleeps).toFixed(1)} ms each` : '';
  out.push(
    `host: a worker waited ${(100 * share).toFixed(0)}% of the loop at window barriers${slept} ` +
      `(uneven rounds, or a host whose cores were busy): --workers 1 may be faster here; the results are the same`,
  );
  return out;
}
