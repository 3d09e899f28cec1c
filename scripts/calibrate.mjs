#!/usr/bin/env node
// calibrate: the real kernel as the oracle, as a job of the project (`npm run calibrate`). It installs Debian's
// qemu-system-x86, linux-image-amd64 and busybox-static with apt-get when they are missing (as root on Debian), builds
// an initramfs whose /init prints what the kernel reports, boots the kernel under QEMU's TCG at a set of sizes and
// CPU counts, and compares:
//   - every zoneinfo field of each boot with the model's boot-time node (@faultline/zone bootNode);
//   - a matched workload - a reader streaming a file from an ext2 virtio disk through the page cache and three
//     processes allocating, touching and freeing 48 MiB of anonymous memory, 256 MiB, 4 CPUs, no swap - with the
//     `reclaim-calibration` scenario: kswapd's share of reclaim, allocation stalls and balance_pgdat runs per 1000
//     pages reclaimed, from /proc/vmstat, and PSI.
// It writes out/calibration/calibration.md and .html and prints the Markdown. Usage (after a build):
//   node scripts/calibrate.mjs [--quick] [--secs N]      (--quick: two boots and a 10 s workload)
// Under TCG the guest runs far slower than hardware while its clock keeps wall time, so rates are compared per
// page reclaimed, not per second.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runSimulation } from '../packages/engine/dist/index.js';
import { getScenario } from '../packages/scenarios/dist/index.js';
import { captureSection } from '../packages/zone/dist/index.js';
import { compareBoot, ZONEINFO_TABLE_HEAD } from './lib/zoneinfo-compare.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'out', 'calibration');
const quick = process.argv.includes('--quick');
const secsArg = process.argv.indexOf('--secs');
const workloadSecs = secsArg > 0 ? Number(process.argv[secsArg + 1]) : quick ? 10 : 20;
const BOOTS = quick
  ? [
      [256, 1],
      [1024, 2],
    ]
  : [
      [256, 1],
      [256, 2],
      [256, 4],
      [512, 1],
      [512, 4],
      [1024, 2],
      [1024, 4],
      [4096, 1],
      [4096, 4],
    ];

function log(msg) {
  process.stderr.write(`calibrate: ${msg}\n`);
}

// ---- the tools ---------------------------------------------------------------------------------------------------

function kernelImage() {
  const v = existsSync('/boot')
    ? readdirSync('/boot')
        .filter((f) => /^vmlinuz-.*-amd64$/.test(f))
        .sort()
        .at(-1)
    : undefined;
  return v ? { image: `/boot/${v}`, version: v.replace(/^vmlinuz-/, '') } : null;
}

function ensureTools() {
  const missing = () =>
    [
      spawnSync('sh', ['-c', 'command -v qemu-system-x86_64']).status !== 0 && 'qemu-system-x86',
      kernelImage() === null && 'linux-image-amd64',
      !existsSync('/bin/busybox') && 'busybox-static',
      spawnSync('sh', ['-c', 'command -v cpio']).status !== 0 && 'cpio',
      spawnSync('sh', ['-c', 'command -v mke2fs']).status !== 0 && 'e2fsprogs',
    ].filter(Boolean);
  let need = missing();
  if (need.length === 0) return;
  if (process.getuid?.() !== 0 || spawnSync('sh', ['-c', 'command -v apt-get']).status !== 0) {
    throw new Error(
      `missing: ${need.join(', ')}; install them from Debian (apt-get install ${need.join(' ')}) and run again`,
    );
  }
  log(`apt-get install ${need.join(' ')} (about 90 MB to download the first time)`);
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', ...need]]) {
    const r = spawnSync('apt-get', args, {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (r.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed with exit code ${r.status}`);
  }
  need = missing();
  if (need.length > 0) throw new Error(`still missing after apt-get: ${need.join(', ')}`);
}

// ---- the guest ---------------------------------------------------------------------------------------------------

/** The modules a disk workload needs, dependencies first, from the kernel's modules.dep. */
function moduleOrder(version, wanted) {
  const dir = `/lib/modules/${version}`;
  const deps = new Map(
    readFileSync(`${dir}/modules.dep`, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const [m, rest] = l.split(':');
        return [m, rest.trim() ? rest.trim().split(/\s+/) : []];
      }),
  );
  const order = [];
  const visit = (m) => {
    if (order.includes(m)) return;
    for (const d of deps.get(m) ?? []) visit(d);
    order.push(m);
  };
  for (const w of wanted) {
    const m = [...deps.keys()].find((k) => k.endsWith(`/${w}.ko`) || k.endsWith(`/${w}.ko.xz`));
    if (!m) throw new Error(`module ${w} not found in ${dir}/modules.dep`);
    visit(m);
  }
  return order.map((m) => join(dir, m));
}

const INIT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
sec() { echo "=====FL_BEGIN $1"; cat "$2"; echo "=====FL_END $1"; }
arg() { sed -n "s/.*$1=\\([^ ]*\\).*/\\1/p" /proc/cmdline; }
echo "=====FL_BEGIN uname"; uname -a; echo "=====FL_END uname"
echo "=====FL_BEGIN nproc"; nproc; echo "=====FL_END nproc"
for f in min_free_kbytes watermark_scale_factor watermark_boost_factor lowmem_reserve_ratio percpu_pagelist_high_fraction; do sec $f /proc/sys/vm/$f; done
sec thp_enabled /sys/kernel/mm/transparent_hugepage/enabled
sec meminfo /proc/meminfo; sec zoneinfo /proc/zoneinfo; sec cmdline /proc/cmdline
if [ "$(arg fl_mode)" = reclaim ]; then
  for m in /lib/fl/*.ko; do insmod $m; done
  mkdir -p /mnt; mount -t ext2 -o ro /dev/vda /mnt || echo "=====FL_ERROR mount"
  sec vmstat_before /proc/vmstat; sec psi_before /proc/pressure/memory
  (while :; do cat /mnt/big > /dev/null; done) &
  i=0; while [ $i -lt $(arg fl_hogs) ]; do
    (while :; do dd if=/dev/zero of=/dev/null bs=$(arg fl_hogmb)M count=4 2>/dev/null; done) &
    i=$((i + 1))
  done
  sleep $(arg fl_secs)
  sec vmstat_after /proc/vmstat; sec psi_after /proc/pressure/memory
fi
echo "=====FL_DONE"
poweroff -f
`;

function buildGuest(version) {
  rmSync(out, { recursive: true, force: true });
  const rootfs = join(out, 'rootfs');
  for (const d of ['bin', 'proc', 'sys', 'dev', 'lib/fl']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync('/bin/busybox', join(rootfs, 'bin/busybox'));
  chmodSync(join(rootfs, 'bin/busybox'), 0o755);
  writeFileSync(join(rootfs, 'init'), INIT, { mode: 0o755 });
  moduleOrder(version, ['virtio_pci', 'virtio_blk', 'crc32c_generic', 'ext4']).forEach((m, i) => {
    copyFileSync(m, join(rootfs, 'lib/fl', `${String(i).padStart(2, '0')}-${m.split('/').at(-1)}`));
  });
  const cpio = join(out, 'initramfs.cpio');
  execFileSync('sh', ['-c', `cd "${rootfs}" && find . | cpio -o -H newc --quiet > "${cpio}"`]);
  // The disk: ext2 with a sparse 400 MB file; reading its holes fills the page cache with clean, reclaimable pages.
  const disk = join(out, 'disk');
  mkdirSync(disk);
  execFileSync('truncate', ['-s', '400M', join(disk, 'big')]);
  const img = join(out, 'disk.img');
  execFileSync('mke2fs', ['-q', '-F', '-t', 'ext2', '-d', disk, img, '64M']);
  return { cpio, img };
}

function boot(kernel, guest, memoryMiB, cpus, extra = '', timeoutS = 180) {
  const args = [
    '-accel',
    'tcg',
    '-cpu',
    'max',
    '-smp',
    String(cpus),
    '-m',
    `${memoryMiB}M`,
    '-nographic',
    '-no-reboot',
    '-kernel',
    kernel.image,
    '-initrd',
    guest.cpio,
    '-append',
    `console=ttyS0 quiet panic=-1 ${extra}`,
    '-drive',
    `file=${guest.img},if=virtio,format=raw,readonly=on`,
  ];
  const t0 = Date.now();
  const r = spawnSync('qemu-system-x86_64', args, { encoding: 'utf8', timeout: timeoutS * 1000, maxBuffer: 64 << 20 });
  const text = r.stdout ?? '';
  if (!text.includes('=====FL_DONE'))
    throw new Error(
      `the ${memoryMiB} MiB x ${cpus} boot did not finish (${r.error?.message ?? `exit ${r.status}`}); its console:\n${text.slice(-2000)}`,
    );
  log(`booted ${memoryMiB} MiB x ${cpus} CPUs in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return text;
}

function section(text, name) {
  const s = captureSection(text, name);
  if (s === null) throw new Error(`the guest printed no ${name}`);
  return s;
}

const vmstat = (text) =>
  Object.fromEntries(
    text
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/))
      .map(([k, v]) => [k, Number(v)]),
  );

// ---- the comparisons ---------------------------------------------------------------------------------------------

function reclaimFigures(before, after) {
  const d = (k) => (after[k] ?? 0) - (before[k] ?? 0);
  const kswapd = d('pgsteal_kswapd');
  const direct = d('pgsteal_direct');
  const stalls = Object.keys(after)
    .filter((k) => k.startsWith('allocstall_'))
    .reduce((s, k) => s + d(k), 0);
  const steal = kswapd + direct;
  const allocs = ['pgalloc_dma', 'pgalloc_dma32', 'pgalloc_normal', 'pgalloc_movable'].reduce((s, k) => s + d(k), 0);
  return {
    'kswapd share of reclaim (%)': (100 * kswapd) / steal,
    'DMA share of pages allocated (%)': (100 * d('pgalloc_dma')) / allocs,
    'allocstall per 1000 pages reclaimed': (1000 * stalls) / steal,
    'pageoutrun per 1000 pages reclaimed': (1000 * d('pageoutrun')) / steal,
    pgsteal_kswapd: kswapd,
    pgsteal_direct: direct,
    allocstall: stalls,
  };
}

// ---- the job -----------------------------------------------------------------------------------------------------

ensureTools();
const kernel = kernelImage();
log(`kernel ${kernel.version}; building the guest in ${out}`);
const guest = buildGuest(kernel.version);
const md = [`# Calibration run (${new Date().toISOString().slice(0, 10)}, kernel ${kernel.version}, QEMU TCG)`, ''];
md.push('## Boot-time zoneinfo: the model from the size alone (the kernel in brackets where it differs)', '');
md.push(...ZONEINFO_TABLE_HEAD);
const summary = [];
for (const [memoryMiB, cpus] of BOOTS) {
  const c = compareBoot(boot(kernel, guest, memoryMiB, cpus), memoryMiB, cpus);
  md.push(...c.rows);
  summary.push(
    `- ${memoryMiB} MiB x ${cpus}: ${c.fieldsEqual} of ${c.fields} fields equal, managed pages within ` +
      `${(c.worstManaged * 100).toFixed(2)}%, zones ${c.zones[0]} (${c.zones[1]})`,
  );
}
md.push('', ...summary, '');

log(`the matched workload: 256 MiB x 4 CPUs for ${workloadSecs} s of guest time`);
const text = boot(
  kernel,
  guest,
  256,
  4,
  `fl_mode=reclaim fl_secs=${workloadSecs} fl_hogs=3 fl_hogmb=48`,
  workloadSecs + 240,
);
if (text.includes('=====FL_ERROR mount')) throw new Error('the guest could not mount its disk');
const real = reclaimFigures(vmstat(section(text, 'vmstat_before')), vmstat(section(text, 'vmstat_after')));
const psiAfter = section(text, 'psi_after').trim();
const s = getScenario('reclaim-calibration');
const seeds = ['calibrate-1', 'calibrate-2', 'calibrate-3'];
// The model at its default reclaim cost and at the one these ratios point to (CALIBRATION.md).
const SCANS = [200, 250, 1000];
const models = [];
for (const scanNsPerPage of SCANS) {
  const runs = await Promise.all(
    seeds.map((seed) =>
      runSimulation(
        s.build({ policy: 'classic', cpus: 4, workers: 1, seed, duration: s.defaults.duration, scanNsPerPage }),
      ),
    ),
  );
  models.push({ scanNsPerPage, runs, figures: runs.map((r) => s.figures(r)) });
}
md.push(
  `## The matched workload (256 MiB, 4 CPUs, no swap; the kernel for ${workloadSecs} s, the model for ${s.defaults.duration} over 3 seeds)`,
  '',
);
md.push(
  `| figure | kernel | ${SCANS.map((x) => `model, scanNsPerPage ${x}${x === 200 ? ' (default)' : x === 250 ? ' (fitted on one zone)' : ' (before calibration)'}`).join(' | ')} |`,
  `|---|---|${SCANS.map(() => '---').join('|')}|`,
);
const fmt = (x) => (Number.isInteger(x) ? String(x) : x.toFixed(1));
for (const k of Object.keys(real)) {
  md.push(
    `| ${k} | ${fmt(real[k])} | ${models.map((m) => fmt(m.figures.reduce((a, f) => a + f[k], 0) / m.figures.length)).join(' | ')} |`,
  );
}
md.push('', `The kernel's /proc/pressure/memory at the end: ${psiAfter.replace(/\n/g, '; ')}`);
for (const m of models) {
  md.push(
    `The model's PSI memory some at scanNsPerPage ${m.scanNsPerPage}: ${(m.runs.reduce((a, r) => a + r.psi.memory.some.totalUs, 0) / m.runs.length / 1000).toFixed(2)} ms of ${s.defaults.duration}.`,
  );
}
md.push('');
const markdown = md.join('\n');
writeFileSync(join(out, 'calibration.md'), `${markdown}\n`);
const esc = (x) => x.replace(/&/g, '&amp;').replace(/</g, '&lt;');
writeFileSync(
  join(out, 'calibration.html'),
  `<!doctype html><meta charset="utf-8"><title>faultline calibration</title>
<style>body{font:14px system-ui;margin:2em}td,th{border:1px solid #ccc;padding:2px 6px}table{border-collapse:collapse}</style>
${markdown
  .split('\n\n')
  .map((block) =>
    block.startsWith('|')
      ? `<table>${block
          .split('\n')
          .filter((l) => !/^\|---/.test(l))
          .map(
            (l, i) =>
              `<tr>${l
                .split('|')
                .slice(1, -1)
                .map((c) => (i === 0 ? `<th>${esc(c.trim())}</th>` : `<td>${esc(c.trim())}</td>`))
                .join('')}</tr>`,
          )
          .join('')}</table>`
      : block.startsWith('#')
        ? `<h2>${esc(block.replace(/^#+\s*/, ''))}</h2>`
        : `<p>${esc(block).replace(/\n/g, '<br>')}</p>`,
  )
  .join('\n')}\n`,
);
process.stdout.write(`${markdown}\n\nwritten: ${join(out, 'calibration.md')}, ${join(out, 'calibration.html')}\n`);
