// sweep: the report of `faultline sweep` as one self-contained HTML file (Chart.js inlined, as html.ts does): for each
// figure and each swept parameter, a chart of the figure against that parameter, a line per policy (and per value
// of the other parameters) with its 95% confidence band. When every chart is drawn the page sets
// window.faultlineReport = { ready: true, charts: N }.
import { escapeHtml, page } from './html.js';

/** One chart: a figure against one swept parameter. */
export interface SweepSeries {
  readonly figure: string;
  readonly axis: string;
  readonly x: readonly string[];
  readonly lines: ReadonlyArray<{
    readonly label: string;
    readonly policy: string;
    /** Per x: the mean over seeds and the 95% half-width (null where there is none). */
    readonly points: ReadonlyArray<{ readonly mean: number | null; readonly half: number | null }>;
  }>;
}

export interface SweepReportInput {
  readonly title: string;
  readonly command: string;
  readonly baseline: string;
  readonly seeds: number;
  readonly series: readonly SweepSeries[];
}

const SWEEP_SCRIPT = `
(function () {
  const D = JSON.parse(document.getElementById('faultline-data').textContent);
  const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563'];
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.font.family = 'system-ui, sans-serif';
  const policies = [...new Set(D.series.flatMap((s) => s.lines.map((l) => l.policy)))];
  const colour = (p) => PALETTE[policies.indexOf(p) % PALETTE.length];
  const root = document.getElementById('charts');
  let charts = 0;
  for (const s of D.series) {
    const box = document.createElement('section');
    box.className = 'chart';
    box.innerHTML = '<h3></h3><p class="note"></p><div class="box"><canvas></canvas></div>';
    box.querySelector('h3').textContent = s.figure + ' against ' + s.axis;
    box.querySelector('.note').textContent = 'mean over ' + D.seeds + ' seeds; the band is the 95% confidence interval';
    root.appendChild(box);
    const datasets = [];
    s.lines.forEach((l, i) => {
      const c = colour(l.policy);
      const dash = Math.floor(i / policies.length) % 3;
      const hi = l.points.map((p) => (p.mean === null ? null : p.mean + (p.half ?? 0)));
      const lo = l.points.map((p) => (p.mean === null ? null : p.mean - (p.half ?? 0)));
      datasets.push({ label: '_hi', data: hi, borderWidth: 0, pointRadius: 0, fill: false });
      datasets.push({ label: '_lo', data: lo, borderWidth: 0, pointRadius: 0, fill: '-1', backgroundColor: c + '26' });
      datasets.push({ label: l.label, data: l.points.map((p) => p.mean), borderColor: c, backgroundColor: c,
        borderDash: dash === 0 ? [] : dash === 1 ? [6, 4] : [2, 3], pointRadius: 3, fill: false });
    });
    // Figures that cannot go below zero (counts, times, rates) keep their axis there, whatever the band says.
    const nonNegative = s.lines.every((l) => l.points.every((p) => p.mean === null || p.mean >= 0));
    new Chart(box.querySelector('canvas'), {
      type: 'line',
      data: { labels: s.x, datasets },
      options: {
        plugins: { legend: { labels: { filter: (item) => !item.text.startsWith('_') } },
          tooltip: { filter: (item) => !item.dataset.label.startsWith('_') } },
        scales: { x: { title: { display: true, text: s.axis } }, y: { title: { display: true, text: s.figure }, ...(nonNegative ? { min: 0 } : {}) } },
      },
    });
    charts++;
  }
  window.faultlineReport = { ready: true, charts };
})();
`;

export function renderSweepReport(input: SweepReportInput): string {
  const empty =
    input.series.length === 0 ? '<p class="note">No parameter was swept (no --grid): nothing to plot against.</p>' : '';
  const note =
    `<p class="note">Each figure against each swept parameter, a line per policy (baseline ${escapeHtml(input.baseline)}); ` +
    "the tables with the differences and their significance are in the terminal's output and sweep.json.</p>\n";
  return page(
    input.title,
    input.command,
    note,
    `${empty}\n<div class="grid" id="charts"></div>\n`,
    { series: input.series, seeds: input.seeds },
    SWEEP_SCRIPT,
  );
}
