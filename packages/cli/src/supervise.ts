// supervise: what the command does around a run that is not the run: the exit code it ends with, and Ctrl-C. The
// first Ctrl-C stops the run at the next window's end, so its statistics are printed and saved as for any run; a
// second one gives up at once, with the terminal's cursor restored (the progress bar hides it).
import type { RunResult } from '@faultline/engine';

/** The exit codes, as the README documents them. */
export const EXIT = {
  ok: 0,
  badInput: 1,
  taskError: 3,
  deadlock: 4,
  aborted: 5,
  /** --queue's server did not answer within FAULTLINE_QUEUE_CONNECT_MS (queue.ts). */
  queueUnreachable: 6,
  interrupted: 130,
} as const;

/** A run's exit code: a task's error, a deadlock, an aborted run (a worker died or hung), or stopped by Ctrl-C. */
export function exitCodeOf(r: Pick<RunResult, 'endReason' | 'error'>): number {
  if (r.endReason === 'stopped') return EXIT.interrupted;
  if (r.endReason === 'aborted') return EXIT.aborted;
  if (r.endReason === 'deadlock') return EXIT.deadlock;
  if (r.endReason === 'task-error' || r.error) return EXIT.taskError;
  return EXIT.ok;
}

/** The line for standard error that says why a run deadlocked (its other non-zero ends say so where they happen:
 * a task's error, a worker that died, Ctrl-C), or null. */
export function endLine(r: Pick<RunResult, 'endReason' | 'error' | 'simulatedNs' | 'waits'>): string | null {
  if (exitCodeOf(r) !== EXIT.deadlock) return null;
  return (
    `faultline: deadlock at ${(r.simulatedNs / 1e6).toFixed(3)} ms simulated: no task can run and nothing can ` +
    `wake one (${r.waits.length} waiting; the report lists what each waits for); exit ${EXIT.deadlock}`
  );
}

/** While the returned function is not called: Ctrl-C calls `stop` once, and the second Ctrl-C exits. */
export function onInterrupt(stop: () => void, say: NodeJS.WritableStream, what: string): () => void {
  let count = 0;
  const handler = () => {
    count++;
    if (count === 1) {
      say.write(`\nfaultline: interrupted; ${what} (Ctrl-C again to quit at once)\n`);
      stop();
      return;
    }
    process.stderr.write('\x1b[?25h\nfaultline: quit\n');
    process.exit(EXIT.interrupted);
  };
  process.on('SIGINT', handler);
  return () => process.off('SIGINT', handler);
}
