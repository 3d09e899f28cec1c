#!/usr/bin/env node
// oracle: the question asked of the real kernel (`npm run oracle`). It runs the kernel-storm workload inside
// Debian's own kernels under QEMU's TCG - flstorm.ko (scripts/oracle/flstorm.c: page-table pages allocated with
// each mode's mask beside GFP_KERNEL victims, memory full of page cache) and a real userspace fault storm
// (scripts/oracle/ustorm.c) - then the same workload in the model at the rates and costs the guest measured, and
// sets the two side by side (scripts/lib/oracle-compare.mjs). Steps:
//   1. tools: qemu-system-x86, busybox-static, linux-image-amd64 with its linux-headers, gcc, make, cpio,
//      e2fsprogs from Debian when missing (root on Debian); 6.12 (linux-image-6.12.*+deb12-amd64 and its headers)
//      extracted into out/oracle/kernels/ with dpkg-deb, not installed, so /boot's kernel (the calibration's) stays;
//   2. per kernel: flstorm.ko built against its headers, an initramfs (busybox, init.sh, virtio/ext2 modules,
//      flstorm.ko, ustorm), an ext2 disk holding a sparse 2000 MB file for the reader;
//   3. per configuration (kernel x vCPUs x memory x storm rate): one boot that runs the modes interleaved, `--runs`
//      times each, into out/oracle/logs/<config>.log (the raw console);
//   4. per configuration: a scenario file out/oracle/scenarios/<config>.yaml - kernel-storm with the guest's vCPUs,
//      memory, threads and cycle, and its measured costs (the storm's CPU per fault and per failed attempt, the
//      victims' CPU and sleep, the reader's CPU per page, kswapd's CPU per page scanned) - and `faultline compare`
//      of it over the four policies, and of the userspace storm's at ustorm's pace;
//   5. out/oracle/comparison.md (and .json): per configuration and figure the kernel's mean [min-max] beside the
//      model's mean ± 95% CI, and per mode the sign of its difference from classic in each.
// Usage (after a build; npm run oracle builds first):
//   node scripts/oracle.mjs [--kernels 6.1,6.12] [--cpus 4] [--memory 256] [--storm-us 0] [--threads 2]
//        [--cycle 1024] [--secs 8] [--runs 3] [--modes 0,1,2,3,u] [--seeds 3] [--seed faultline] [--model-duration 1s]
//        [--matrix] [--skip-kernel] [--resume] [--skip-model] [--model-set path=value ...] [--calibration]
//        [--victim-sleep classic|off] [--sysctl vm.name=value ...] [--out out/oracle]
// --cpus, --memory and --storm-us take lists: every combination is a configuration. --matrix is the issue's set:
// 2 and 4 vCPUs, 256 and 512 MiB, the storm at full rate (storm_us 0) and slowed (storm_us 250), both kernels.
// --skip-kernel reuses the logs already in --out; --resume boots only the configurations whose log lacks a run;
// --skip-model stops after the boots; --model-set passes a `--set` to
// every model run (an ablation: --model-set params.readerBatchPages=1); --calibration rewrites CALIBRATION.md's block;
// --victim-sleep off gives the victims the storm-off runs' sleep (the timer alone) instead of classic's.
// --sysctl sets a vm sysctl in the guest from boot (the kernel's sysctl.* boot parameters, 5.8+), an experiment on
// the kernel's side (--sysctl vm.watermark_boost_factor=0); the log's FL_PARAMS line shows the value the guest read.
// Under TCG the guest runs far slower than hardware while its clock keeps wall time: compare ratios and shares,
// never absolute times, across the kernel and the model.
import { spawn, spawnSync } from 'node:child_process';
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
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { compareConfiguration, comparisonMarkdown, modelParams } from './lib/oracle-compare.mjs';
import { parseOracleLog } from './lib/oracle-log.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'scripts', 'oracle');
const { values: opt } = parseArgs({
  options: {
    kernels: { type: 'string', default: '6.1,6.12' },
    cpus: { type: 'string', default: '4' },
    memory: { type: 'string', default: '256' },
    'storm-us': { type: 'string', default: '0' },
    threads: { type: 'string', default: '2' },
    cycle: { type: 'string', default: '1024' },
    secs: { type: 'string', default: '8' },
    runs: { type: 'string', default: '3' },
    modes: { type: 'string', default: '0,1,2,3,u' },
    seeds: { type: 'string', default: '3' },
    seed: { type: 'string', default: 'faultline' },
    'model-duration': { type: 'string', default: '1s' },
    'model-set': { type: 'string', multiple: true, default: [] },
    matrix: { type: 'boolean', default: false },
    'skip-kernel': { type: 'boolean', default: false },
    'skip-model': { type: 'boolean', default: false },
    resume: { type: 'boolean', default: false },
    calibration: { type: 'boolean', default: false },
    'victim-sleep': { type: 'string', default: 'classic' },
    sysctl: { type: 'string', multiple: true, default: [] },
    out: { type: 'string', default: join(root, 'out', 'oracle') },
  },
  strict: true,
});

function fail(msg) {
  console.error(`oracle: ${msg}`);
  process.exit(2);
}
const list = (name, allowed, what) => {
  const xs = String(opt[name]).split(',').filter(Boolean);
  for (const x of xs) if (!allowed(x)) fail(`--${name} ${opt[name]}: '${x}' is not allowed; allowed: ${what}`);
  return xs;
};
const int = (name, lo, hi) => {
  const v = Number(opt[name]);
  if (!Number.isInteger(v) || v < lo || v > hi) fail(`--${name} ${opt[name]}: an integer from ${lo} to ${hi}`);
  return v;
};
const intIn = (lo, hi) => (x) => Number.isInteger(Number(x)) && Number(x) >= lo && Number(x) <= hi;
const given = (name) => process.argv.some((a) => a === `--${name}` || a.startsWith(`--${name}=`));
for (const name of ['cpus', 'memory', 'storm-us'])
  if (opt.matrix && given(name)) fail(`--${name} with --matrix: the matrix sets it (2,4 vCPUs; 256,512 MiB; 0,250 us)`);
if (opt['skip-kernel'] && opt['skip-model']) fail('--skip-kernel with --skip-model: nothing would run');
const KERNELS = ['6.1', '6.12'];
const kernels = list('kernels', (k) => KERNELS.includes(k), KERNELS.join(', '));
const cpusList = opt.matrix ? ['2', '4'] : list('cpus', intIn(1, 16), 'integers from 1 to 16');
const memoryList = opt.matrix ? ['256', '512'] : list('memory', intIn(128, 4096), 'MiB from 128 to 4096');
const stormUsList = opt.matrix ? ['0', '250'] : list('storm-us', intIn(0, 100_000), 'us from 0 to 100000');
const modes = list('modes', (m) => ['0', '1', '2', '3', 'u'].includes(m), '0, 1, 2, 3, u');
const threads = int('threads', 1, 16);
// ustorm's faults are 1 GiB apart in a 1 TiB mapping: past 1,024 a cycle would fault where its tables exist.
const cycle = int('cycle', 1, 1024);
const secs = int('secs', 2, 600);
const runs = int('runs', 1, 20);
const seeds = int('seeds', 1, 20);
if (!['classic', 'off'].includes(opt['victim-sleep']))
  fail(`--victim-sleep ${opt['victim-sleep']}: classic (the victims' sleep as the storm made it) or off (the timer's)`);
const sysctls = opt.sysctl.map((x) => {
  const m = /^vm\.([a-z_]+)=(\d+)$/.exec(x);
  if (!m) fail(`--sysctl ${x}: vm.<name>=<integer>, e.g. vm.watermark_boost_factor=0`);
  return { name: m[1], value: m[2] };
});
if (!modes.includes('2')) fail('--modes must include 2 (GFP_KERNEL, the classic baseline every sign is taken against)');
if (!/^\d+(\.\d+)?(ms|s)$/.test(opt['model-duration']))
  fail(`--model-duration ${opt['model-duration']}: e.g. 2s, 500ms`);
// Absolute: the kernel's make runs in the headers' folder and takes M= from there.
const out = resolve(opt.out);
for (const d of ['logs', 'scenarios', 'model', 'kernels', 'build']) mkdirSync(join(out, d), { recursive: true });

const log = (msg) => process.stderr.write(`oracle: ${msg}\n`);
const sh = (cmd) => spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
const run = (cmd, args, o = {}) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20, ...o });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${(r.stderr || r.stdout || '').slice(-2000)}`);
  return r.stdout;
};

// ---- 1. tools and kernels ----------------------------------------------------------------------------------------

function apt(...pkgs) {
  if (process.getuid?.() !== 0 || sh('command -v apt-get').status !== 0)
    fail(`missing: ${pkgs.join(', ')}; install them from Debian (apt-get install ${pkgs.join(' ')}) and run again`);
  log(`apt-get install ${pkgs.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['update', '-q'],
    ['install', '-y', '-q', '--no-install-recommends', ...pkgs],
  ]) {
    const r = spawnSync('apt-get', args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) fail(`apt-get ${args.join(' ')} failed with exit code ${r.status}`);
  }
}

/** The 6.1 kernel: /boot's newest Debian image (the one the calibration boots) and its installed headers. */
function kernel61() {
  const newest = () =>
    (existsSync('/boot') ? readdirSync('/boot') : [])
      .filter((f) => /^vmlinuz-6\.1\.\d.*-amd64$/.test(f))
      .sort()
      .at(-1)
      ?.replace(/^vmlinuz-/, '');
  const tools = ['qemu-system-x86_64', 'busybox', 'cpio', 'mke2fs', 'gcc', 'make', 'dpkg-deb', 'depmod'];
  const missing = tools.filter((t) => sh(`command -v ${t} || test -x /bin/${t}`).status !== 0);
  let v = newest();
  if (missing.length > 0 || v === undefined || !existsSync(`/usr/src/linux-headers-${v}`)) {
    apt(
      'qemu-system-x86',
      'busybox-static',
      'linux-image-amd64',
      'linux-headers-amd64',
      'gcc',
      'make',
      'libc6-dev',
      'cpio',
      'e2fsprogs',
      'kmod',
      'xz-utils',
      'zstd',
    );
    v = newest();
    if (v !== undefined && !existsSync(`/usr/src/linux-headers-${v}`)) apt(`linux-headers-${v}`);
  }
  if (v === undefined) fail('no Debian 6.1 kernel in /boot after apt-get install linux-image-amd64');
  return { name: '6.1', version: v, root: '/', image: `/boot/vmlinuz-${v}`, headers: `/usr/src/linux-headers-${v}` };
}

/** The 6.12 kernel: Debian 12's newest linux-image-6.12.*+deb12-amd64, extracted (not installed) with its headers. */
function kernel612() {
  const dir = join(out, 'kernels');
  const have = readdirSync(dir)
    .filter((d) => /^6\.12\./.test(d))
    .sort()
    .at(-1);
  if (have && existsSync(join(dir, have, 'done'))) return k612At(join(dir, have), have);
  const newest = () =>
    sh("apt-cache search --names-only '^linux-image-6\\.12\\.[0-9.]+\\+deb12-amd64$'")
      .stdout.split('\n')
      .map((l) => l.split(' ')[0])
      .filter(Boolean)
      .sort((x, y) => x.localeCompare(y, 'en', { numeric: true }))
      .at(-1);
  let pkg = newest();
  if (!pkg) {
    sh('DEBIAN_FRONTEND=noninteractive apt-get update -q');
    pkg = newest();
  }
  if (!pkg) fail("Debian's package lists have no linux-image-6.12.*+deb12-amd64 (bookworm-security or -backports)");
  return extract612(pkg);
}
function extract612(imagePkg) {
  const version = imagePkg.replace(/^linux-image-/, ''); // 6.12.118+deb12-amd64
  const base = version.replace(/-amd64$/, ''); // 6.12.118+deb12
  const dir = join(out, 'kernels', version);
  const debs = join(dir, 'debs');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(debs, { recursive: true });
  log(`apt-get download ${imagePkg} and its headers (extracted, not installed)`);
  run(
    'apt-get',
    ['download', imagePkg, `linux-headers-${version}`, `linux-headers-${base}-common`, `linux-kbuild-${base}`],
    { cwd: debs },
  );
  for (const d of readdirSync(debs)) run('dpkg-deb', ['-x', join(debs, d), join(dir, 'root')]);
  // The headers' Makefile includes the common tree by its absolute /usr/src path: point it into the extraction.
  const mk = join(dir, 'root', 'usr', 'src', `linux-headers-${version}`, 'Makefile');
  writeFileSync(
    mk,
    readFileSync(mk, 'utf8').replaceAll('include /usr/src/', `include ${join(dir, 'root', 'usr', 'src')}/`),
  );
  run('depmod', ['-b', join(dir, 'root'), version]);
  rmSync(debs, { recursive: true, force: true });
  writeFileSync(join(dir, 'done'), `${imagePkg}\n`);
  return k612At(dir, version);
}
function k612At(dir, version) {
  const r = join(dir, 'root');
  return {
    name: '6.12',
    version,
    root: r,
    image: join(r, 'boot', `vmlinuz-${version}`),
    headers: join(r, 'usr', 'src', `linux-headers-${version}`),
  };
}

// ---- 2. the guest ------------------------------------------------------------------------------------------------

function buildGuest(k) {
  const b = join(out, 'build', k.version);
  const rd = join(b, 'initramfs');
  rmSync(b, { recursive: true, force: true });
  for (const d of [
    'module',
    'initramfs/bin',
    'initramfs/lib/fl',
    'initramfs/proc',
    'initramfs/sys',
    'initramfs/dev',
    'initramfs/mnt',
  ])
    mkdirSync(join(b, d), { recursive: true });
  copyFileSync(join(src, 'flstorm.c'), join(b, 'module', 'flstorm.c'));
  copyFileSync(join(src, 'Kbuild'), join(b, 'module', 'Kbuild'));
  // No pahole here: BTF for modules is switched off (it only serves BPF).
  run('make', ['-s', '-C', k.headers, `M=${join(b, 'module')}`, 'CONFIG_DEBUG_INFO_BTF_MODULES=', 'modules']);
  copyFileSync(join(b, 'module', 'flstorm.ko'), join(rd, 'lib', 'flstorm.ko'));
  copyFileSync('/bin/busybox', join(rd, 'bin', 'busybox'));
  copyFileSync(join(src, 'init.sh'), join(rd, 'init'));
  chmodSync(join(rd, 'init'), 0o755);
  run('gcc', ['-O2', '-static', '-pthread', '-o', join(rd, 'lib', 'ustorm'), join(src, 'ustorm.c')]);
  const deps = run('modprobe', [
    '-d',
    k.root,
    '-S',
    k.version,
    '--show-depends',
    '-a',
    'virtio_pci',
    'virtio_blk',
    'ext4',
  ])
    .split('\n')
    .filter((l) => l.startsWith('insmod '))
    .map((l) => l.split(' ')[1]);
  [...new Set(deps)].forEach((m, i) => {
    const name = `${String(i).padStart(2, '0')}-${m
      .split('/')
      .at(-1)
      .replace(/\.(xz|zst)$/, '')}`;
    const dest = join(rd, 'lib', 'fl', name);
    if (m.endsWith('.xz')) writeFileSync(dest, run('xz', ['-dc', m], { encoding: 'buffer' }));
    else if (m.endsWith('.zst')) writeFileSync(dest, run('zstd', ['-dc', m], { encoding: 'buffer' }));
    else copyFileSync(m, dest);
  });
  run('sh', ['-c', `cd '${rd}' && find . | cpio -o -H newc --quiet | gzip -6 > '${join(b, 'initrd.gz')}'`]);
  return join(b, 'initrd.gz');
}

function disk() {
  const img = join(out, 'build', 'disk.img');
  if (!existsSync(img)) {
    const d = join(out, 'build', 'disk');
    rmSync(d, { recursive: true, force: true });
    mkdirSync(d, { recursive: true });
    // Its holes read as zeroes: page cache without I/O. Larger than any guest's memory, so that every pass misses.
    run('truncate', ['-s', '2000M', join(d, 'big')]);
    run('mke2fs', ['-q', '-F', '-t', 'ext2', '-d', d, img, '64M']);
  }
  return img;
}

// ---- 3. boots ----------------------------------------------------------------------------------------------------

/** The modes interleaved: 0,1,2,3,u, 0,1,2,3,u, ... so that the host's drift falls on every mode alike. */
const modeOrder = () => Array.from({ length: runs }, () => modes).flat();

function boot(k, initrd, img, c, label) {
  const order = modeOrder();
  const kargs = [`per_cpu=${threads}`, `cycle=${cycle}`, `storm_us=${c.stormUs}`].join(',');
  const append =
    `console=ttyS0 quiet panic=-1 softlockup_panic=1 fl_modes=${order.join(',')} fl_secs=${secs} ` +
    `fl_warm=${Math.max(8, Math.ceil(c.memory / 32))} fl_settle=3 ` +
    `fl_kargs=${kargs} fl_uper=${threads} fl_ucycle=${cycle}` +
    sysctls.map(({ name, value }) => ` sysctl.vm.${name}=${value}`).join('') +
    (sysctls.length ? ` fl_sysctls=${sysctls.map(({ name }) => name).join(',')}` : '');
  const args = [
    '-accel',
    'tcg',
    '-cpu',
    'max',
    '-smp',
    String(c.cpus),
    '-m',
    `${c.memory}M`,
    '-nographic',
    '-no-reboot',
    '-monitor',
    'none',
    '-kernel',
    k.image,
    '-initrd',
    initrd,
    '-drive',
    `file=${img},if=virtio,format=raw,readonly=on`,
    '-append',
    append,
  ];
  const timeoutMs = (60 + order.length * (secs + 10) * 3) * 1000;
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const q = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    let done = 0;
    const timer = setTimeout(() => q.kill('SIGKILL'), timeoutMs);
    // No run finished for six runs' time: the guest is stuck (a lockup that did not panic it).
    let lastProgress = Date.now();
    const stuck = setInterval(() => {
      if (Date.now() - lastProgress > 6 * (secs + 20) * 1000) q.kill('SIGKILL');
    }, 5000);
    q.stdout.on('data', (b) => {
      text += b.toString();
      const n = (text.match(/=====FL_RUN \S+ stop/g) ?? []).length;
      if (n !== done) {
        done = n;
        lastProgress = Date.now();
        process.stderr.write(
          `\roracle: ${label}: run ${n}/${order.length}, ${((Date.now() - t0) / 1000).toFixed(0)} s   `,
        );
      }
    });
    q.stderr.on('data', (b) => (text += b.toString()));
    q.on('close', (code) => {
      clearTimeout(timer);
      clearInterval(stuck);
      process.stderr.write('\n');
      const wall = (Date.now() - t0) / 1000;
      const host = `wall_s=${wall.toFixed(1)} qemu_exit=${code} cpus=${c.cpus} memory=${c.memory}`;
      text += `\n=====FL_HOST ${host} storm_us=${c.stormUs}\n`;
      if (!text.includes('=====FL_DONE'))
        reject(
          Object.assign(
            new Error(`${label}: the guest did not finish (qemu exit ${code} after ${wall.toFixed(0)} s)`),
            { text },
          ),
        );
      else resolve(text);
    });
  });
}

// ---- 4 and 5. the model, and the comparison ----------------------------------------------------------------------

const POLICIES = ['classic', 'spf-nowait-literal', 'spf-nowait', 'storm-off'];
const MODE_OF = { 'storm-off': '0', 'spf-nowait-literal': '1', classic: '2', 'spf-nowait': '3' };

function modelCompare(k, parsed, c, label) {
  const policies = POLICIES.filter((p) => modes.includes(MODE_OF[p]));
  const p = modelParams(parsed.runs, { threads, cycle, victimSleep: opt['victim-sleep'] });
  const scenario = {
    schema: 'faultline.scenario/1',
    scenario: 'kernel-storm',
    summary: `the oracle's ${label}: kernel-storm at the paces and costs Debian's ${k.version} measured in the guest`,
    policy: 'classic',
    cpus: c.cpus,
    duration: opt['model-duration'],
    // The allocator's tables: 6.1 still has ALLOC_HARDER and __GFP_ATOMIC (the v5.18 tables); 6.12 has 6.3's.
    kernel: k.name === '6.1' ? 'v5.18' : 'v6.3+',
    machine: { memoryMiB: c.memory, layout: 'kernel' },
    reclaim: {
      scanNsPerPage: p.scanNsPerPage,
      // kswapd woken as late as the guest's is (TCG), where the log measured it.
      ...(p.kswapdWakeLatencyNs !== undefined ? { kswapdWakeLatencyNs: p.kswapdWakeLatencyNs } : {}),
    },
    params: p.params,
  };
  const model = compareFile(
    label,
    scenario,
    policies.filter((x) => x !== 'storm-off'),
    p.note,
  );
  // Storm off, at the storm-off runs' own costs: with the storm's vCPUs idle, TCG runs the busy ones faster (a
  // victim's allocation costs a third less CPU, its sleep a third of classic's).
  if (policies.includes('storm-off')) {
    const q = modelParams(parsed.runs, { threads, cycle, costsFrom: '0', victimSleep: 'off' });
    const off = {
      ...scenario,
      reclaim: {
        scanNsPerPage: q.scanNsPerPage,
        ...(q.kswapdWakeLatencyNs !== undefined ? { kswapdWakeLatencyNs: q.kswapdWakeLatencyNs } : {}),
      },
      params: q.params,
    };
    off.summary = `${scenario.summary}, storm off, at the storm-off runs' costs`;
    model.runs.push(...compareFile(`${label}.off`, off, ['storm-off'], q.note).runs);
  }
  // The userspace storm: its faults allocate their two tables with GFP_PGTABLE_USER (classic's mask; no memcg here)
  // at the pace the guest's ustorm kept - its CPU per fault, fault entry and user code included - and its tables
  // are freed at once, as native x86 frees them.
  const user = parsed.runs.filter((r) => r.mode === 'u' && !r.error && r.counters.ustorm.faults > 0);
  if (user.length > 0) {
    // Less its direct reclaim (timed by flstorm's probes for ustorm's threads), which the model simulates.
    const per = (r) => (r.counters.ustorm.cpu_ns - (r.counters.other.ustorm_rc_ns ?? 0)) / r.counters.ustorm.faults;
    const ns = user.reduce((s, r) => s + per(r), 0) / user.length;
    // Native x86 frees a userspace fault's tables after the TLB flush, not through RCU (no paravirt hook here).
    const paced = { ...scenario, params: { ...scenario.params, stormFaultNs: Math.round(ns), stormFreeRcu: false } };
    paced.summary = `${scenario.summary}, the storm at the userspace storm's pace`;
    const u = compareFile(`${label}.user`, paced, ['classic'], `${p.note}; the storm ${Math.round(ns)} ns per fault`);
    for (const r of u.runs)
      model.runs.push({ ...r, job: { ...r.job, spec: { ...r.job.spec, policy: 'userspace storm' } } });
  }
  return model;
}

/** A scenario file written and compared over `policies`: faultline compare's JSON. */
function compareFile(label, scenario, policies, note) {
  const file = join(out, 'scenarios', `${label}.yaml`);
  writeFileSync(file, `# Written by scripts/oracle.mjs: ${note}\n${toYaml(scenario)}`);
  const json = join(out, 'model', `${label}.json`);
  log(`${label}: faultline compare ${file} (${policies.length} policies x ${seeds} seeds, ${opt['model-duration']})`);
  const t0 = Date.now();
  const cli = join(root, 'packages', 'cli', 'dist', 'bin.js');
  const args = ['compare', file, '--policies', policies.join(','), '--seeds', String(seeds), '--seed', opt.seed];
  args.push('--json', json);
  for (const set of opt['model-set']) args.push('--set', set);
  run('node', [cli, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  log(`${label}: model compared in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return JSON.parse(readFileSync(json, 'utf8'));
}

function toYaml(o, indent = '') {
  return Object.entries(o)
    .map(([key, v]) =>
      v !== null && typeof v === 'object'
        ? `${indent}${key}:\n${toYaml(v, `${indent}  `)}`
        : `${indent}${key}: ${typeof v === 'string' && /[:#]/.test(v) ? JSON.stringify(v) : v}`,
    )
    .join('\n')
    .concat(indent ? '' : '\n');
}

// The first of each list first (the default configuration on every kernel), then the rest.
const configs = stormUsList.flatMap((stormUs) =>
  memoryList.flatMap((memory) =>
    [...cpusList]
      .reverse()
      .flatMap((cpus) =>
        kernels.map((kn) => ({ kernel: kn, cpus: Number(cpus), memory: Number(memory), stormUs: Number(stormUs) })),
      ),
  ),
);
const finished = (text) => (text.match(/=====FL_RUN \S+ stop/g) ?? []).length;
const labelOf = (k, c) => `k${k.name}-${c.cpus}cpu-${c.memory}M-storm${c.stormUs}us`;

const started = Date.now();
const K = {};
for (const kn of kernels) K[kn] = kn === '6.1' ? kernel61() : kernel612();
const results = [];
const failures = [];
let guests = null;
for (const [i, c] of configs.entries()) {
  const k = K[c.kernel];
  const label = labelOf(k, c);
  const logFile = join(out, 'logs', `${label}.log`);
  const done = existsSync(logFile) && finished(readFileSync(logFile, 'utf8')) === modeOrder().length;
  if (opt.resume && done) log(`${label} (${i + 1}/${configs.length}): its log has every run; not booted again`);
  else if (!opt['skip-kernel']) {
    guests ??= {};
    guests[k.version] ??= buildGuest(k);
    log(
      `${label} (${i + 1}/${configs.length}): booting ${k.version}, ${c.cpus} vCPUs, ${c.memory} MiB, ` +
        `storm_us ${c.stormUs}`,
    );
    // A guest that hangs (a soft lockup panics it: softlockup_panic=1) or dies is booted once more; if that fails
    // too, the runs it finished are kept and the failure is reported.
    let best = '';
    for (let attempt = 1; attempt <= 2; attempt++) {
      try {
        best = await boot(k, guests[k.version], disk(), c, label);
        break;
      } catch (e) {
        const text = e.text ?? '';
        writeFileSync(join(out, 'logs', `${label}.failed-${attempt}.log`), text); // for the post-mortem
        if (finished(text) >= finished(best)) best = text;
        log(`${e.message}${attempt === 1 ? '; booting it again' : ''}`);
        if (attempt === 2) failures.push(`${label}: ${e.message} (twice; the runs it finished are kept)`);
      }
    }
    // A log already there with more finished runs (an earlier boot, --resume) is not replaced by a worse one.
    const before = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
    if (finished(best) >= finished(before)) writeFileSync(logFile, best);
  }
  if (!existsSync(logFile)) {
    failures.push(`${label}: no log (${logFile})`);
    continue;
  }
  const parsed = parseOracleLog(readFileSync(logFile, 'utf8'), `${label}.log`);
  const bad = parsed.runs.filter((r) => r.error);
  for (const r of bad) failures.push(`${label} ${r.tag}: ${r.error}`);
  const model = opt['skip-model'] ? null : modelCompare(k, parsed, c, label);
  results.push(compareConfiguration(label, { ...c, kernelVersion: k.version }, parsed, model));
}
const md = comparisonMarkdown(results, {
  failures,
  secs,
  runs,
  seeds,
  modelDuration: opt['model-duration'],
  seed: opt.seed,
  threads,
  cycle,
});
writeFileSync(join(out, 'comparison.md'), md);
writeFileSync(join(out, 'comparison.json'), JSON.stringify(results, null, 2));
if (opt.calibration) {
  // CALIBRATION.md's generated block: what this command printed, between its markers.
  const file = join(root, 'CALIBRATION.md');
  const doc = readFileSync(file, 'utf8');
  const [begin, end] = [
    '<!-- oracle:begin (scripts/oracle.mjs --calibration writes this block) -->',
    '<!-- oracle:end -->',
  ];
  const a = doc.indexOf(begin);
  const b = doc.indexOf(end);
  if (a < 0 || b < a) fail(`--calibration: CALIBRATION.md has no '${begin}' ... '${end}' block`);
  const when = new Date().toISOString().slice(0, 10);
  const cmd = `node scripts/oracle.mjs ${process.argv.slice(2).join(' ')}`;
  const block = `${begin}\nGenerated ${when} by \`${cmd}\`.\n\n${md.replaceAll('\n### ', '\n#### ')}\n`;
  writeFileSync(file, doc.slice(0, a) + block + doc.slice(b));
  log(`CALIBRATION.md: the oracle's block rewritten`);
}
console.log(md);
log(`done in ${((Date.now() - started) / 60000).toFixed(1)} min: ${join(out, 'comparison.md')}`);
if (failures.length > 0) process.exit(1);
