// The HTML report, as a user opens it: `faultline run <scenario> --html` and `faultline compare --html` write one
// file each, and Debian's Chromium (headless, installed by scripts/install-chromium.mjs) loads it with no network,
// runs it without errors and draws every chart - each canvas has ink, and the charts hold the run's data.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = fileURLToPath(new URL('../bin/faultline.mjs', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: root });
const chromiumPath = process.env.FAULTLINE_CHROMIUM ?? '/usr/bin/chromium';
// The flags the workplace's notes give for Chromium on a machine without a network.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

interface Drawn {
  ready: boolean;
  charts: number;
  canvases: number;
  inked: number[];
  titles: string[];
  points: number[];
  errors: string[];
  requests: string[];
}

async function open(browser: Browser, file: string): Promise<Drawn> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(pathToFileURL(file).href);
  try {
    await page.waitForFunction(
      () => (window as unknown as { faultlineReport?: { ready: boolean } }).faultlineReport?.ready === true,
      null,
      { timeout: 15_000 },
    );
  } catch (e) {
    throw new Error(`the report never finished drawing (${String(e)}); page errors: ${errors.join(' | ') || 'none'}`);
  }
  const drawn = await page.evaluate(() => {
    const canvases = [...document.querySelectorAll('canvas')];
    // Ink: pixels a chart painted (the canvas starts fully transparent).
    const inked = canvases.map((c) => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
      return n / (c.width * c.height);
    });
    const C = (
      window as unknown as {
        Chart: { getChart(c: HTMLCanvasElement): { data: { datasets: Array<{ data: unknown[] }> } } | undefined };
      }
    ).Chart;
    const points = canvases.map((c) => C.getChart(c)?.data.datasets.reduce((s, d) => s + d.data.length, 0) ?? 0);
    const titles = [...document.querySelectorAll('section.chart h3')].map((h) => h.textContent ?? '');
    const r = (window as unknown as { faultlineReport: { ready: boolean; charts: number } }).faultlineReport;
    return { ready: r.ready, charts: r.charts, canvases: canvases.length, inked, titles, points };
  });
  await page.close();
  return { ...drawn, errors, requests };
}

describe('the HTML report in headless Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-report-'));
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(chromiumPath))
      throw new Error(
        `no Chromium at ${chromiumPath}: run 'node scripts/install-chromium.mjs' (Debian's chromium package), or set FAULTLINE_CHROMIUM`,
      );
    browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('faultline run <scenario> --html: one file that draws free pages, bands, tasks and fault paths offline', async () => {
    const file = join(dir, 'run.html');
    // At the uncalibrated reclaim cost the storm reclaims within 10 ms, so every chart has something to draw.
    const r = run(
      'run',
      'nowait-starvation',
      '--policy',
      'classic',
      '--cpus',
      '4',
      '--duration',
      '10ms',
      '--scan-ns-per-page',
      '1000',
      '--html',
      file,
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`report: ${file}`);
    const html = readFileSync(file, 'utf8');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/); // nothing fetched from anywhere
    const d = await open(browser, file);
    expect(d.errors).toEqual([]);
    expect(d.requests).toEqual([pathToFileURL(file).href]);
    expect(d.titles).toEqual([
      'Free pages over time: classic',
      'Time in each watermark band',
      'Allocation latency by task group',
      'Who paid: pages reclaimed by each task group',
      'Who benefited: pages taken by each task group',
      'Memory pressure (PSI) per policy',
      'Memory stalls by task group',
      'Who reclaimed, as /proc/vmstat counts it',
      'Pages allocated from each zone',
      'Fault paths per policy',
    ]);
    expect(d.charts).toBe(d.canvases);
    for (const [i, ink] of d.inked.entries()) expect(ink, d.titles[i]).toBeGreaterThan(0.01);
    // The free-pages chart holds a bucket per 10 us of the run (1000 buckets), twice, and the three watermarks.
    expect(d.points[0]).toBeGreaterThan(1_500);
  });

  it('faultline compare --html: a headline that matches the table, error bars, and one zoomed axis for free pages', async () => {
    const file = join(dir, 'verdict.html');
    const r = run(
      'compare',
      'nowait-starvation',
      '--policies',
      'classic,spf-nowait-literal',
      '--seeds',
      '3',
      '--cpus',
      '4',
      '--duration',
      '10ms',
      '--html',
      file,
    );
    expect(r.status, r.stderr).toBe(0);
    const page = await browser.newPage();
    await page.goto(pathToFileURL(file).href);
    await page.waitForFunction(
      () => (window as unknown as { faultlineReport?: { ready: boolean } }).faultlineReport?.ready === true,
    );
    const got = await page.evaluate(() => {
      const headline = [...document.querySelectorAll('#headline p.detail')].map((p) => p.textContent ?? '');
      const verdict = [...document.querySelectorAll('#headline p.verdict')].map((p) => p.textContent ?? '');
      const cells = [...document.querySelectorAll('table')[0]!.querySelectorAll('td')].map((td) => ({
        text: td.textContent ?? '',
        marked: td.classList.contains('significant'),
        background: getComputedStyle(td).backgroundColor,
      }));
      const rows = [...document.querySelectorAll('table')[0]!.querySelectorAll('tr')].map((tr) =>
        [...tr.children].map((c) => c.textContent ?? ''),
      );
      const C = (
        window as unknown as {
          Chart: { getChart(c: HTMLCanvasElement): { scales: { y: { max: number } } } | undefined };
        }
      ).Chart;
      const titles = [...document.querySelectorAll('section.chart')].map(
        (s) => s.querySelector('h3')?.textContent ?? '',
      );
      const yMax = [...document.querySelectorAll('section.chart')]
        .filter((_s, i) => titles[i]!.startsWith('Free pages over time'))
        .map((s) => C.getChart(s.querySelector('canvas')!)!.scales.y.max);
      const yMin = [...document.querySelectorAll('section.chart')]
        .filter((_s, i) => titles[i]!.startsWith('Free pages over time'))
        .map(
          (s) =>
            (C.getChart(s.querySelector('canvas')!)! as unknown as { scales: { y: { min: number } } }).scales.y.min,
        );
      // Each bar chart with error bars: its axis top against its highest bar top (mean + half).
      type Ds = { data: number[]; errorBars?: number[] };
      const reach = [...document.querySelectorAll('section.chart canvas')].flatMap((cv) => {
        const ch = C.getChart(cv as HTMLCanvasElement) as unknown as
          | { data: { datasets: Ds[] }; scales: { y: { max: number } } }
          | undefined;
        const tops = (ch?.data.datasets ?? []).flatMap((ds) =>
          ds.errorBars ? ds.data.map((v, j) => v + (Number.isFinite(ds.errorBars![j]) ? ds.errorBars![j]! : 0)) : [],
        );
        return tops.length > 0 ? [{ axis: ch!.scales.y.max, top: Math.max(...tops) }] : [];
      });
      const f = (
        window as unknown as { faultlineReport: { errorBars: number; timelineYMin: number; timelineYMax: number } }
      ).faultlineReport;
      return {
        headline,
        verdict,
        cells,
        rows,
        yMax,
        yMin,
        reach,
        errorBars: f.errorBars,
        timelineYMin: f.timelineYMin,
        timelineYMax: f.timelineYMax,
      };
    });
    await page.close();
    // The headline is the terminal's, and each figure it names reads as the table's cells for both policies.
    const said = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('headline: '))
      .map((l) => l.slice('headline: '.length));
    expect(got.headline).toEqual(said);
    expect(got.headline[0]).toMatch(/^spf-nowait-literal against classic: /);
    const claims = [
      ...got.headline[0]!.matchAll(/([a-z][^;:]*?) (\S+(?: ± \S+)?) against (\S+(?: ± \S+)?) \(([^)]+)\)/g),
    ];
    expect(claims.length).toBeGreaterThan(0);
    for (const [, figure, mine, theirs, diff] of claims) {
      const row = got.rows.find((x) => x[0] === figure);
      expect(row, figure).toBeDefined();
      expect(row![1]).toBe(theirs);
      expect(row![2]).toBe(`${mine} (${diff})`);
    }
    // The verdict in words is the terminal's too, first, and its means are the table's for both policies.
    const verdict = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('verdict: '))
      .map((l) => l.slice('verdict: '.length));
    expect(got.verdict).toEqual(verdict);
    expect(got.verdict[0]).toMatch(/^Under spf-nowait-literal, /);
    const worded = [
      ...got.verdict[0]!.matchAll(
        /([a-z][^;,]*?) (?:was [^(]+'s \((\S+) against (\S+), p < [\d.]+\)|went from 0 to (\S+) \()/g,
      ),
    ];
    expect(worded.length).toBeGreaterThan(0);
    for (const [, figure, mine, theirs, fromZero] of worded) {
      const row = got.rows.find((x) => x[0] === figure);
      expect(row, figure).toBeDefined();
      if (fromZero !== undefined) expect(row![2]!.startsWith(fromZero)).toBe(true);
      else {
        expect(row![1]!.startsWith(theirs!), `${figure}: ${row![1]} / ${theirs}`).toBe(true);
        expect(row![2]!.startsWith(mine!), `${figure}: ${row![2]} / ${mine}`).toBe(true);
      }
    }
    // A significant difference (* or **) is highlighted, and nothing else is.
    expect(got.cells.some((c) => c.marked)).toBe(true);
    for (const c of got.cells) {
      expect(c.marked, c.text).toBe(/\*\)$/.test(c.text));
      if (c.marked) expect(c.background).not.toBe(got.cells.find((x) => !x.marked)!.background);
    }
    expect(got.errorBars).toBeGreaterThan(0);
    // Every policy's free-pages chart has the same y-axis.
    expect(new Set(got.yMax)).toEqual(new Set([got.timelineYMax]));
    // ... and one bottom, cropped to where free pages move: above 0, below every run's min watermark.
    expect(new Set(got.yMin)).toEqual(new Set([got.timelineYMin]));
    expect(got.timelineYMin).toBeGreaterThan(0);
    // No error bar runs past its chart's top.
    expect(got.reach.length).toBeGreaterThan(0);
    for (const x of got.reach) expect(x.axis).toBeGreaterThanOrEqual(x.top);
  });

  it('faultline compare --html: a timeline per policy and the policies side by side', async () => {
    const file = join(dir, 'compare.html');
    const r = run(
      'compare',
      'nowait-starvation',
      '--policies',
      'classic,spf-nowait',
      '--seeds',
      '2',
      '--cpus',
      '2',
      '--duration',
      '3ms',
      '--threads',
      '2',
      '--html',
      file,
    );
    expect(r.status, r.stderr).toBe(0);
    const d = await open(browser, file);
    expect(d.errors).toEqual([]);
    expect(d.titles.slice(0, 2)).toEqual(['Free pages over time: classic', 'Free pages over time: spf-nowait']);
    expect(d.titles).toContain('Allocation p99 by task group and policy');
    expect(d.charts).toBe(d.canvases);
    for (const [i, ink] of d.inked.entries()) expect(ink, d.titles[i]).toBeGreaterThan(0.01);
    const html = readFileSync(file, 'utf8');
    expect(html).toContain('faultline-1');
    expect(html).toContain('faultline-2');
  });

  it('faultline run --task --html: charts what the run measured and says what it did not', async () => {
    const file = join(dir, 'tasks.html');
    const r = run('run', '--task', './examples/alloc-churn.ts', '--cpus', '2', '--duration', '2ms', '--html', file);
    expect(r.status, r.stderr).toBe(0);
    const d = await open(browser, file);
    expect(d.errors).toEqual([]);
    // No reclaim module: no timeline, latency or reclaim charts; the zones' pgalloc counts are the allocator's own.
    expect(d.titles).toEqual(['Who benefited: pages taken by each task group', 'Pages allocated from each zone']);
    for (const ink of d.inked) expect(ink).toBeGreaterThan(0.01);
    expect(readFileSync(file, 'utf8')).toContain('alloc-churn');
  });

  it('faultline sweep: each figure against each swept field, a line and a band per policy', async () => {
    const out = join(dir, 'sweep');
    const r = run(
      'sweep',
      'pft',
      '--grid',
      'cpus=1,2',
      '--policies',
      'classic,per-vma-lock',
      '--seeds',
      '2',
      '--duration',
      '1ms',
      '--threads',
      '2',
      '--out',
      out,
    );
    expect(r.status, r.stderr).toBe(0);
    const d = await open(browser, join(out, 'sweep.html'));
    expect(d.errors).toEqual([]);
    expect(d.requests).toEqual([pathToFileURL(join(out, 'sweep.html')).href]);
    const figures = Object.keys(
      (JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8')) as { rows: object[] }).rows[0]!,
    );
    expect(d.titles).toContain('faults/s (k) against cpus');
    expect(d.charts).toBe(d.canvases);
    expect(d.charts).toBeGreaterThan(10);
    expect(figures).toContain('faults_per_s_k');
    // Two policies, each a line and its two band edges, at two points.
    expect(d.points[d.titles.indexOf('faults/s (k) against cpus')]).toBe(2 * 3 * 2);
    for (const [i, ink] of d.inked.entries()) expect(ink, d.titles[i]).toBeGreaterThan(0.005);
  });
});
