// @faultline/report: self-contained HTML reports of faultline runs (Chart.js inlined; opens offline).
export { reportRun, FAULT_PATHS } from './data.js';
export type { ReportRun, GroupRow, FaultPath } from './data.js';
export { renderReport } from './html.js';
export type { ReportInput } from './html.js';
