// trace-output: `--trace FILE` for a run: the Perfetto trace written from the traced result, and the result made
// fit for --json (the raw per-CPU trace stays out of it: the trace file has it).
import type { RunResult } from '@faultline/engine';
import { perfettoTrace } from '@faultline/trace';
import { writeFileSync } from 'node:fs';

/** Write the run's Perfetto trace; returns a line for the person reading ('-' is not allowed: it is binary). */
export function writeTrace(path: string, r: RunResult): string {
  const { bytes, summary } = perfettoTrace(r);
  writeFileSync(path, bytes);
  const dropped = summary.dropped > 0 ? `; ${summary.dropped} events past the bound dropped` : '';
  return (
    `trace: ${path} (${summary.slices} slices, ${summary.instants} instants, ${summary.counters} counter values` +
    `${dropped}; open it in ui.perfetto.dev)`
  );
}

/** The result for --json: without the raw trace. */
export function withoutTrace(r: RunResult): Omit<RunResult, 'traces' | 'moduleTraces'> {
  const { traces: _t, moduleTraces: _m, ...rest } = r;
  return rest;
}
