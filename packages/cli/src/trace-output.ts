// trace-output: `--trace FILE` for a run: the Perfetto trace written from the traced result, and the result made
// fit for --json (the raw per-CPU trace stays out of it: the trace file has it). @faultline/trace (with protobufjs,
// about 11 ms to load) is imported only when a trace is written, not on every run's start.
import type { RunResult } from '@faultline/engine';
import { writeFileSync } from 'node:fs';

/** Write the run's Perfetto trace; returns a line for the person reading ('-' is not allowed: it is binary). */
export async function writeTrace(path: string, r: RunResult): Promise<string> {
  const { perfettoTrace } = await import('@faultline/trace');
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
