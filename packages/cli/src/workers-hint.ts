// workers-hint: after a run split over several worker threads, a line saying when the split cost more than it gave:
// the workers meet at two barriers a window, so a worker that waits long at them - because another worker's CPUs
// had more to do that round, or another worker was off its core on a busy host - is time a one-worker run does not
// spend. Measured from the run's own host figures (result.host), not guessed from the host's load.
import type { RunResult } from '@faultline/engine';

/** Above this share of the loop spent waiting at window barriers, the hint is printed. */
export const BARRIER_SHARE_HINT = 0.3;

/** The hint for a run's host figures, or null when it ran on one worker or its workers seldom waited. */
export function workersHint(host: RunResult['host']): string | null {
  if (host.workers <= 1 || host.loopMs <= 0 || host.phases.length === 0) return null;
  const waited = Math.max(...host.phases.map((p) => p.barrierMs));
  const share = waited / host.loopMs;
  if (share < BARRIER_SHARE_HINT) return null;
  const sleeps = host.phases.reduce((n, p) => n + p.barrierSleeps, 0);
  const sleptMs = host.phases.reduce((n, p) => n + p.barrierSleptMs, 0);
  const slept =
    sleeps > 0 ? `; ${sleeps} waits outlasted the spin and slept, ${(sleptMs / sleeps).toFixed(1)} ms each` : '';
  return (
    `host: a worker waited ${(100 * share).toFixed(0)}% of the loop at window barriers${slept} ` +
    `(uneven rounds, or a host whose cores were busy): --workers 1 may be faster here; the results are the same`
  );
}
