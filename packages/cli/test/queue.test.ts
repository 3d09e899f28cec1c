// `faultline sweep --queue` against a real Redis (Debian's redis-server on a local port, installed by
// scripts/install-redis.mjs) with two `faultline worker` processes, one of them SIGKILLed in the middle of a job:
// every run comes back once, equal to a local sweep's, and a job a worker cannot verify is refused, not run.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Job, Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelVersion } from '../src/model-version.js';
import { queueName } from '../src/queue.js';
import { resolveScenario, specKey } from '@faultline/scenarios';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = fileURLToPath(new URL('../bin/faultline.mjs', import.meta.url));
const redisServer = process.env.FAULTLINE_REDIS ?? '/usr/bin/redis-server';
const port = 20_000 + (process.pid % 20_000);
const url = (name: string) => `redis://127.0.0.1:${port}/${name}`;
const env = { ...process.env, FAULTLINE_NO_PROGRESS: '1', FAULTLINE_QUEUE_LOCK_MS: '2000' };
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: root, env });

/** A worker process, with what it printed so far. */
function worker(queue: string): { child: ChildProcess; out: () => string } {
  const child = spawn(process.execPath, [bin, 'worker', '--queue', queue, '--concurrency', '1'], { cwd: root, env });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  return { child, out: () => out };
}

const until = async (what: string, ok: () => boolean, ms = 60_000) => {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe('faultline sweep --queue with a real Redis', () => {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-queue-'));
  let redis: ChildProcess;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    if (!existsSync(redisServer)) {
      throw new Error(
        `no redis-server at ${redisServer}: run 'node scripts/install-redis.mjs' (Debian's redis-server), or set FAULTLINE_REDIS`,
      );
    }
    redis = spawn(redisServer, [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
    ]);
    let log = '';
    redis.stdout!.on('data', (d: Buffer) => {
      log += d.toString();
    });
    await until('redis-server to accept connections', () => log.includes('Ready to accept connections'), 15_000);
  });
  afterAll(() => {
    for (const w of workers) w.kill('SIGKILL');
    redis?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('every run comes back once, equal to a local sweep, though a worker is SIGKILLed mid-job', async () => {
    const grid = [
      'pft',
      '--grid',
      'cpus=1,2',
      '--policies',
      'classic,per-vma-lock',
      '--seeds',
      '2',
      '--duration',
      '20ms',
    ];
    const a = worker(url('kill'));
    const b = worker(url('kill'));
    workers.push(a.child, b.child);
    await until('both workers up', () => a.out().includes('taking jobs') && b.out().includes('taking jobs'));
    const sweep = spawn(
      process.execPath,
      [bin, 'sweep', ...grid, '--queue', url('kill'), '--out', join(dir, 'queued')],
      { cwd: root, env },
    );
    let out = '';
    let err = '';
    sweep.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    sweep.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const exited = new Promise<number | null>((r) => sweep.on('exit', (c) => r(c)));
    // Kill worker a while it holds a job: the job's lock lapses and worker b takes it over.
    await until('worker a to start a job', () => a.out().includes('started '));
    a.child.kill('SIGKILL');
    const killedJob = a.out().match(/started (\w+)/)![1]!;
    expect(await exited, `the sweep's output:\n${out}\n${err}\nworker b:\n${b.out()}`).toBe(0);
    expect(out).toContain('8 to run, on the queue');
    expect(b.out()).toContain(`started ${killedJob}`);
    // Once each: one stored result per run, and the same results as a local sweep of the same grid.
    expect(readdirSync(join(dir, 'queued', 'runs')).filter((f) => f.endsWith('.json'))).toHaveLength(8);
    const local = run('sweep', ...grid, '--out', join(dir, 'local'));
    expect(local.status, local.stderr).toBe(0);
    const rows = (d: string) =>
      (
        JSON.parse(readFileSync(join(dir, d, 'sweep.json'), 'utf8')) as { rows: Array<Record<string, unknown>> }
      ).rows.map(({ host_ms: _, ...r }) => r);
    expect(rows('queued')).toEqual(rows('local'));
    // The same sweep again: nothing is queued, everything is on disk.
    const again = run('sweep', ...grid, '--queue', url('kill'), '--out', join(dir, 'queued'));
    expect(again.stdout).toContain('8 already in');
  });

  it('a worker refuses a job it cannot verify, and the sweep is not needed to see it', async () => {
    const w = worker(url('guard'));
    workers.push(w.child);
    await until('the worker up', () => w.out().includes('taking jobs'));
    const version = modelVersion();
    const q = new Queue(queueName('guard', version), {
      connection: { host: '127.0.0.1', port, maxRetriesPerRequest: null },
    });
    try {
      const spec = resolveScenario('pft', { sets: ['duration=1ms'] });
      const seed = 's';
      await q.add('run', { spec, seed, version, point: {} }, { jobId: 'not-its-key' });
      const policyPath = join(root, 'packages/mm/test/tasks/capped-policy.mjs#capped');
      const withModule = { ...spec, policy: policyPath };
      await q.add('run', { spec: withModule, seed, version, point: {} }, { jobId: specKey(withModule, seed, version) });
      await q.add('run', { spec, seed, version, point: {} }, { jobId: specKey(spec, seed, version) });
      const result = async (id: string) => {
        for (let i = 0; i < 300; i++) {
          // The state first, then the job: a job read just before it completed has no return value yet.
          if ((await q.getJobState(id)) === 'completed') {
            const job = await Job.fromId(q, id);
            if (job) return job.returnvalue as { refused?: string; digest?: string };
          }
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error(`job ${id} never completed`);
      };
      expect((await result('not-its-key')).refused).toMatch(/its id is not the key of its description and seed/);
      expect((await result(specKey(withModule, seed, version))).refused).toMatch(/names a policy module by path/);
      expect((await result(specKey(spec, seed, version))).digest).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      await q.close();
    }
  });

  it('hunt --queue tries the same candidates as a local hunt and finds the same worst', async () => {
    const w = worker(url('hunt'));
    workers.push(w.child);
    await until('the worker up', () => w.out().includes('taking jobs'));
    const hunt = [
      ...['hunt', 'pft', '--maximize', '{faults/s (k)} - {faults/s (k) @ per-vma-lock}', '--vary', 'regionPages'],
      ...['--cpus', '2', '--duration', '1ms', '--budget', '4', '--shrink-budget', '0'],
    ];
    const queued = spawn(process.execPath, [bin, ...hunt, '--queue', url('hunt'), '--out', join(dir, 'hq')], {
      cwd: root,
      env,
    });
    let err = '';
    queued.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    expect(await new Promise((r) => queued.on('exit', r)), err).toBe(0);
    const local = run(...hunt, '--out', join(dir, 'hl'));
    expect(local.status, local.stderr).toBe(0);
    type Doc = { tried: Array<{ objective: number; runs: Array<{ digest: string }> }>; replay: string };
    const doc = (d: string) => JSON.parse(readFileSync(join(dir, d, 'hunt.json'), 'utf8')) as Doc;
    const digests = (d: string) => doc(d).tried.map((t) => [t.objective, t.runs.map((r) => r.digest)]);
    expect(digests('hq')).toEqual(digests('hl'));
    expect(doc('hq').replay).toBe(doc('hl').replay);
    expect(w.out()).toContain('started ');
    // What a queue's worker would refuse is refused before anything is queued.
    const many = run('hunt', 'pft', '--until', 'error', '--workers-list', '1,2', '--queue', url('hunt'), '--out', dir);
    expect(many.stderr).toContain('--queue with --workers-list above 1');
    const policy = join(root, 'packages/mm/test/tasks/capped-policy.mjs#capped');
    const byPath = run('hunt', 'pft', '--until', 'error', '--policies', policy, '--queue', url('hunt'), '--out', dir);
    expect(byPath.stderr).toMatch(
      /--queue: a queue's worker would refuse these runs: it names a policy module by path/,
    );
  });

  it('parses and refuses queue URLs by name; a password never prints', () => {
    const bad = run('sweep', 'pft', '--queue', 'http://x/y', '--out', join(dir, 'x'));
    expect(bad.stderr).toContain('--queue http://x/y: the scheme must be redis:// or rediss:// (TLS)');
    const both = run('sweep', 'pft', '--queue', url('x'), '--shard', '1/2', '--out', join(dir, 'x'));
    expect(both.stderr).toContain('--queue with --shard, --merge or --threads');
    const w = spawnSync(process.execPath, [bin, 'worker', '--queue', 'rediss://me:secret@127.0.0.1:1/q'], {
      encoding: 'utf8',
      env,
      timeout: 3000,
    });
    expect(`${w.stdout}${w.stderr}`).not.toContain('secret');
  });

  it('gives up on a server that does not answer within the connect time, in one line, exit 6', () => {
    const quick = { ...env, FAULTLINE_QUEUE_CONNECT_MS: '1000' };
    for (const args of [
      ['worker', '--queue', 'redis://127.0.0.1:1/q'],
      ['sweep', 'pft', '--duration', '1ms', '--queue', 'redis://127.0.0.1:1/q', '--out', join(dir, 'gone')],
      ['hunt', 'pft', '--until', 'error', '--duration', '1ms', '--queue', 'redis://127.0.0.1:1/q', '--out', dir],
    ]) {
      const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: quick, timeout: 20_000 });
      expect(r.status, r.stderr).toBe(6);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /--queue redis:\/\/127\.0\.0\.1:1\/q: no Redis server answered within 1\.0 s \(.*ECONNREFUSED/,
      );
    }
  });
});
