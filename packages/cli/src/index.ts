// @faultline/cli: the faultline command's pieces, for scripts that want them without the command line.
export { runDemo } from './commands/demo.js';
export type { DemoOptions, DemoResult } from './commands/demo.js';
export { renderGfpTable } from './commands/gfp-table.js';
export { textTable } from './text-table.js';
