// page: the browser side of the report - plain JavaScript that runs in the page, reads the embedded data and draws
// the charts with Chart.js (inlined beside it). Kept as a string so the report is one file that opens offline.
// When every chart is drawn it sets window.faultlineReport = { ready: true, charts: N } for tests and tools.
export const PAGE_SCRIPT = String.raw`
(function () {
  const D = JSON.parse(document.getElementById('faultline-data').textContent);
  const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563'];
  const BANDS = [['belowMin', 'below min', '#dc2626'], ['minToLow', 'min to low', '#f97316'], ['lowToHigh', 'low to high', '#eab308'], ['aboveHigh', 'above high', '#22c55e']];
  const PATHS = ['speculative', 'aborted', 'fell back', 'retried', 'classic'];
  const charts = [];
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.font.family = 'system-ui, sans-serif';

  function section(where, title, note) {
    const s = document.createElement('section');
    s.className = 'chart';
    const h = document.createElement('h3');
    h.textContent = title;
    s.appendChild(h);
    if (note) {
      const p = document.createElement('p');
      p.className = 'note';
      p.textContent = note;
      s.appendChild(p);
    }
    const box = document.createElement('div');
    box.className = 'box';
    const c = document.createElement('canvas');
    box.appendChild(c);
    s.appendChild(box);
    document.getElementById(where).appendChild(s);
    return c;
  }
  function draw(where, title, note, config) {
    // A chart with nothing to show (no reclaim module, no faults) says so instead of drawing empty axes.
    const any = config.data.datasets.some((d) => d.data.some((v) => (typeof v === 'number' ? v : v && v.y) > 0));
    if (!any) {
      const p = document.createElement('p');
      p.className = 'note empty';
      p.textContent = title + ': nothing to show in this run (' + (where === 'faults' ? 'no page faults' : 'the run measured none; scenarios load the reclaim and mm modules that do') + ').';
      document.getElementById(where).appendChild(p);
      return;
    }
    charts.push(new Chart(section(where, title, note), config));
  }
  const policies = [...new Set(D.runs.map((r) => r.policy))];
  const runsOf = (p) => D.runs.filter((r) => r.policy === p && !r.error);
  const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  const groups = [...new Set(D.runs.flatMap((r) => r.groups.map((g) => g.group)))];
  const groupMean = (p, g, k) => mean(runsOf(p).map((r) => (r.groups.find((x) => x.group === g) || {})[k] || 0));
  // The 95% confidence interval's half-width over seeds (Student's t by degrees of freedom), for error bars.
  const T95 = [NaN, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086];
  const half = (xs) => {
    const n = xs.length;
    if (n < 2) return 0;
    const m = mean(xs);
    const sd = Math.sqrt(xs.reduce((s, x) => s + (x - m) * (x - m), 0) / (n - 1));
    return ((T95[n - 1] || 1.96) * sd) / Math.sqrt(n);
  };
  const groupHalf = (p, g, k) => half(runsOf(p).map((r) => (r.groups.find((x) => x.group === g) || {})[k] || 0));
  // Error bars: a dataset's errorBars[i] is the half-width drawn about its bar i.
  let errorBarsDrawn = 0;
  Chart.register({
    id: 'errorBars',
    afterDatasetsDraw(chart) {
      const c = chart.ctx;
      const y = chart.scales.y;
      chart.data.datasets.forEach((ds, i) => {
        const meta = chart.getDatasetMeta(i);
        if (!ds.errorBars || meta.hidden) return;
        meta.data.forEach((bar, j) => {
          const h = ds.errorBars[j];
          const v = ds.data[j];
          if (!(h > 0) || !isFinite(h)) return;
          const top = y.getPixelForValue(v + h);
          const bottom = y.getPixelForValue(Math.max(y.type === 'logarithmic' ? y.min : 0, v - h));
          c.save();
          c.strokeStyle = '#111827';
          c.lineWidth = 1;
          c.beginPath();
          c.moveTo(bar.x, top); c.lineTo(bar.x, bottom);
          c.moveTo(bar.x - 4, top); c.lineTo(bar.x + 4, top);
          c.moveTo(bar.x - 4, bottom); c.lineTo(bar.x + 4, bottom);
          c.stroke();
          c.restore();
          errorBarsDrawn++;
        });
      });
    },
  });
  const byGroup = (k) => policies.map((p, i) => ({ label: p, backgroundColor: PALETTE[i % PALETTE.length],
    data: groups.map((g) => groupMean(p, g, k)), errorBars: groups.map((g) => groupHalf(p, g, k)) }));
  const CI = '; error bars: 95% confidence interval over seeds';
  // Free pages: one y-axis for every policy, zoomed to the watermarks when free pages go far above them.
  const timelines = policies.map((p) => (runsOf(p).find((x) => x.timeline) || {}).timeline).filter((t) => t);
  const highest = Math.max(0, ...timelines.map((t) => t.watermarks.highPages));
  const dataMax = Math.max(0, ...timelines.flatMap((t) => t.freeMax.filter((v) => v !== null)));
  const zoomed = dataMax > 3 * highest;
  const yMax = zoomed ? 3 * highest : Math.ceil(dataMax * 1.05);
  // Cropped below to where free pages move: a tenth under the lowest of the data and the min watermark.
  const lowest = Math.min(
    ...timelines.map((t) => t.watermarks.minPages),
    ...timelines.flatMap((t) => t.freeMin.filter((v) => v !== null)),
  );
  const yMin = timelines.length > 0 ? Math.max(0, Math.floor(lowest * 0.9)) : 0;
  const yNote = zoomed
    ? '; the y-axis, shared by every policy, is zoomed to where free pages move, up to 3x the high watermark: ' +
      'free pages above it are cut off'
    : '; the y-axis, shared by every policy, spans where free pages move';
  // A bar chart; where its bars carry error bars, the y-axis reaches the highest bar's top (mean + half).
  const bars = (labels, datasets, yTitle, opts) => {
    const tops = datasets.flatMap((ds) =>
      ds.errorBars ? ds.data.map((v, j) => v + (isFinite(ds.errorBars[j]) ? ds.errorBars[j] : 0)) : []);
    const reach = tops.length > 0 ? { suggestedMax: Math.max(...tops) } : {};
    return {
      type: 'bar',
      data: { labels, datasets },
      options: Object.assign({
        scales: {
          y: Object.assign({ title: { display: true, text: yTitle }, beginAtZero: true }, reach, (opts && opts.y) || {}),
          x: (opts && opts.x) || {},
        },
      }, (opts && opts.extra) || {}),
    };
  };

  // Free pages over time against the watermarks, one chart per policy (its first seed).
  for (const p of policies) {
    const r = runsOf(p).find((x) => x.timeline);
    if (!r) continue;
    const t = r.timeline;
    const ms = (i) => ((i + 0.5) * t.bucketNs) / 1e6;
    const pts = (arr) => arr.map((v, i) => ({ x: ms(i), y: v }));
    const end = (t.freeMin.length * t.bucketNs) / 1e6;
    const flat = (y) => [{ x: 0, y }, { x: end, y }];
    draw('timeline', 'Free pages over time: ' + p, 'seed ' + r.seed + '; the band is the lowest and highest NR_FREE_PAGES seen at window ends in each bucket' + yNote, {
      type: 'line',
      data: {
        datasets: [
          { label: 'free (lowest)', data: pts(t.freeMin), borderColor: '#2563eb', pointRadius: 0, borderWidth: 1, spanGaps: true },
          { label: 'free (highest)', data: pts(t.freeMax), borderColor: '#93c5fd', backgroundColor: 'rgba(147,197,253,0.35)', fill: '-1', pointRadius: 0, borderWidth: 1, spanGaps: true },
          { label: 'high', data: flat(t.watermarks.highPages), borderColor: '#22c55e', borderDash: [6, 4], pointRadius: 0, borderWidth: 1.5 },
          { label: 'low', data: flat(t.watermarks.lowPages), borderColor: '#eab308', borderDash: [6, 4], pointRadius: 0, borderWidth: 1.5 },
          { label: 'min', data: flat(t.watermarks.minPages), borderColor: '#dc2626', borderDash: [6, 4], pointRadius: 0, borderWidth: 1.5 },
        ],
      },
      options: {
        parsing: false,
        normalized: true,
        scales: {
          x: { type: 'linear', min: 0, max: end, title: { display: true, text: 'simulated time (ms)' } },
          y: { min: yMin, max: yMax, title: { display: true, text: 'free pages' } },
        },
      },
    });
  }

  // Time in each watermark band, per policy (mean over seeds).
  draw('timeline', 'Time in each watermark band', 'mean over seeds, in simulated ms', bars(policies,
    BANDS.map(([k, label, color]) => ({ label, backgroundColor: color, data: policies.map((p) => mean(runsOf(p).filter((r) => r.timeline).map((r) => r.timeline.timeInBandNs[k] / 1e6))) })),
    'ms', { x: { stacked: true }, y: { stacked: true } }));

  // Allocation latency per task group.
  if (policies.length === 1) {
    const p = policies[0];
    const ks = [['p50Us', 'p50'], ['p99Us', 'p99'], ['maxUs', 'max']];
    draw('tasks', 'Allocation latency by task group', 'allocPages, every mask, µs (log scale)', bars(groups,
      ks.map(([k, label], i) => ({ label, backgroundColor: PALETTE[i], data: groups.map((g) => groupMean(p, g, k)) })), 'µs', { y: { type: 'logarithmic', beginAtZero: false } }));
  } else {
    draw('tasks', 'Allocation p99 by task group and policy', 'allocPages, every mask, µs (log scale), mean over seeds' + CI, bars(groups,
      byGroup('p99Us'), 'µs', { y: { type: 'logarithmic', beginAtZero: false } }));
  }
  // On a log scale, so that the victims' few hundred pages read beside kswapd's tens of thousands.
  draw('tasks', 'Who paid: pages reclaimed by each task group',
    'direct reclaim, and kswapd\'s own passes; pages (log scale); mean over seeds' + CI, bars(groups,
    byGroup('pagesReclaimed'), 'pages', { y: { type: 'logarithmic', beginAtZero: false } }));
  draw('tasks', 'Who benefited: pages taken by each task group', 'pages the zone granted; mean over seeds' + CI, bars(groups,
    byGroup('pagesTaken'), 'pages'));

  // Memory pressure: PSI, and who was stalled.
  draw('pressure', 'Memory pressure (PSI) per policy', '/proc/pressure/memory totals over the run, as kernel/sched/psi.c computes them; mean over seeds, ms', bars(policies,
    [['someMs', 'some', PALETTE[0]], ['fullMs', 'full', PALETTE[1]]].map(([k, label, color]) => ({ label, backgroundColor: color, data: policies.map((p) => mean(runsOf(p).map((r) => r.psi[k]))) })), 'ms'));
  draw('pressure', 'Memory stalls by task group', 'time each group\'s tasks spent in memory stalls (direct and memcg reclaim, memory.high throttling); mean over seeds, ms' + CI, bars(groups,
    byGroup('memstallMs'), 'ms'));
  draw('pressure', 'Who reclaimed, as /proc/vmstat counts it', 'pgsteal_kswapd and pgsteal_direct; mean over seeds', bars(policies,
    [['pgsteal_kswapd', PALETTE[0]], ['pgsteal_direct', PALETTE[1]]].map(([k, color]) => ({ label: k, backgroundColor: color, data: policies.map((p) => mean(runsOf(p).map((r) => r.vmstat[k] || 0))) })),
    'pages', { x: { stacked: true }, y: { stacked: true } }));
  draw('pressure', 'Pages allocated from each zone', 'pgalloc_dma, pgalloc_dma32 and pgalloc_normal: the zonelist takes the highest zone first and falls back below its low watermark; mean over seeds', bars(policies,
    [['pgalloc_dma', PALETTE[2]], ['pgalloc_dma32', PALETTE[0]], ['pgalloc_normal', PALETTE[1]]].map(([k, color]) => ({ label: k, backgroundColor: color, data: policies.map((p) => mean(runsOf(p).map((r) => r.vmstat[k] || 0))) })),
    'pages', { x: { stacked: true }, y: { stacked: true } }));

  // Fault paths per policy.
  {
    draw('faults', 'Fault paths per policy', 'faults by the path they took, mean over seeds', bars(policies,
      PATHS.map((k, i) => ({ label: k, backgroundColor: PALETTE[i], data: policies.map((p) => mean(runsOf(p).map((r) => r.faultPaths[k]))) })),
      'faults', { x: { stacked: true }, y: { stacked: true } }));
  }
  window.faultlineReport = {
    ready: true, charts: charts.length, errorBars: errorBarsDrawn,
    timelineYMin: yMin, timelineYMax: yMax, timelineZoomed: zoomed,
  };
})();
`;
