// @faultline/trace: a traced faultline run as a Perfetto trace (open it in ui.perfetto.dev).
export { perfettoTrace, traceType, PROTO_PATH, PID, TID_BASE } from './perfetto.js';
export type { PerfettoSummary } from './perfetto.js';
