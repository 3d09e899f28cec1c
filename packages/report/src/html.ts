// html: the report as one self-contained HTML file - styles, Chart.js, the data and the page script all inline, so
// it opens offline, from a mail attachment or a CI artefact, with no server and no network.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ReportRun } from './data.js';
import { PAGE_SCRIPT } from './page.js';

export interface ReportInput {
  readonly title: string;
  /** The command that made it, shown under the title so that the report can be made again. */
  readonly command: string;
  /** The figures table as the terminal showed it: a header row and rows of cells. */
  readonly table: { readonly head: readonly string[]; readonly rows: ReadonlyArray<readonly string[]> };
  readonly runs: readonly ReportRun[];
  /** What the comparison found, a line per policy as the terminal printed it (figures, intervals, differences). */
  readonly headline?: readonly string[];
  /** The same in words, a sentence per policy ("Under X, Y was 4.5 times classic's (...)"): shown first, under
   * "What it found", with the headline's lines below it in small type. */
  readonly verdict?: readonly string[];
}

let chartJs: string | null = null;
function chartJsSource(): string {
  // chart.js's package exports do not list the UMD build; find it beside the CommonJS entry.
  chartJs ??= readFileSync(
    join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js'),
    'utf8',
  );
  return chartJs;
}

export const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
/** JSON inside a <script> element: no '<' can end it early. */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c');
const inlineScript = (js: string) => js.replace(/<\/script/gi, '<\\/script');

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 0; color: #111827; background: #f9fafb; }
header { padding: 20px 28px 12px; background: #fff; border-bottom: 1px solid #e5e7eb; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 28px 0 8px; } h3 { font-size: 14px; margin: 0 0 2px; }
code { font: 12px ui-monospace, monospace; background: #f3f4f6; padding: 2px 5px; border-radius: 4px; }
main { padding: 0 28px 40px; max-width: 1400px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 16px; }
.chart { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 12px 14px; }
.box { position: relative; height: 300px; }
.note { color: #6b7280; font-size: 12px; margin: 0 0 8px; }
table { border-collapse: collapse; background: #fff; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #e5e7eb; padding: 4px 10px; text-align: right; } th:first-child, td:first-child { text-align: left; }
th { background: #f3f4f6; } .error { color: #b91c1c; }
.headline { background: #eff6ff; border: 1px solid #bfdbfe; border-radius: 8px; padding: 10px 14px; margin: 16px 0 0; }
.headline p { margin: 4px 0; font-size: 15px; } .headline p.detail { font-size: 12px; color: #4b5563; }
td.significant { background: #fef3c7; font-weight: 600; }
`;

/** The page every report is: head and styles, the title and the command that made it (and a note), the body, then
 * the data, Chart.js and the page's script, all inline. */
export function page(
  title: string,
  command: string,
  note: string,
  body: string,
  data: unknown,
  script: string,
): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(title)}</h1>
<div><code>${escapeHtml(command)}</code></div>
${note}</header>
<main>
${body}</main>
<script id="faultline-data" type="application/json">${scriptJson(data)}</script>
<script>${inlineScript(chartJsSource())}</script>
<script>${inlineScript(script)}</script>
</body>
</html>
`;
}

export function renderReport(input: ReportInput): string {
  const head = `<tr>${input.table.head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>`;
  // A cell whose difference is significant (compare's * and **) stands out.
  const cell = (c: string) => `<td${/\*\)?$/.test(c) ? ' class="significant"' : ''}>${escapeHtml(c)}</td>`;
  const rows = input.table.rows.map((r) => `<tr>${r.map(cell).join('')}</tr>`).join('\n');
  const errors = input.runs
    .filter((r) => r.error)
    .map((r) => `<p class="error">${escapeHtml(`${r.policy}, seed ${r.seed}: ${r.error}`)}</p>`)
    .join('\n');
  const runs = input.runs
    .map(
      (r) =>
        `<tr><td>${escapeHtml(r.policy)}</td><td>${escapeHtml(r.seed)}</td><td>${r.simulatedMs.toFixed(3)}</td><td>${escapeHtml(r.endReason)}</td><td><code>${escapeHtml(r.digest)}</code></td></tr>`,
    )
    .join('\n');
  return page(
    input.title,
    input.command,
    '',
    `${
      (input.verdict?.length ?? 0) + (input.headline?.length ?? 0) > 0
        ? `<section class="headline" id="headline"><h2>What it found</h2>${(input.verdict ?? [])
            .map((v) => `<p class="verdict">${escapeHtml(v)}</p>`)
            .join('')}${(input.headline ?? []).map((h) => `<p class="detail">${escapeHtml(h)}</p>`).join('')}</section>`
        : ''
    }
${errors}
<h2>Figures</h2>
<table>${head}
${rows}</table>
<h2>Free memory</h2>
<div class="grid" id="timeline"></div>
<h2>Tasks: latency, who paid, who benefited</h2>
<div class="grid" id="tasks"></div>
<h2>Memory pressure and kernel counters</h2>
<div class="grid" id="pressure"></div>
<h2>Page faults</h2>
<div class="grid" id="faults"></div>
<h2>Runs</h2>
<table><tr><th>policy</th><th>seed</th><th>simulated ms</th><th>ended</th><th>digest</th></tr>
${runs}</table>
`,
    { runs: input.runs },
    PAGE_SCRIPT,
  );
}
