// @faultline/report: self-contained HTML reports of faultline runs, comparisons and sweeps (Chart.js inlined; opens offline).
export { reportRun, FAULT_PATHS } from './data.js';
export type { ReportRun, GroupRow, FaultPath } from './data.js';
export { renderReport } from './html.js';
export type { ReportInput } from './html.js';
export { renderSweepReport } from './sweep.js';
export type { SweepReportInput, SweepSeries } from './sweep.js';
