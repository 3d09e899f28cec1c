// queue: a sweep's runs on a real job queue (BullMQ on Redis), for sweeps beyond one machine. A run is a pure
// function of (resolved description, seed, model version), so a job is that triple, its id the run's key (specKey):
// enqueuing a run already queued or done is a no-op, a run computed twice gives the same result, and a worker
// killed mid-job leaves it to BullMQ's stalled-job recovery, which hands it to another worker. The queue's name
// carries the model version (`<name>:<version>`), so a worker of other code never sees jobs it cannot reproduce.
// A worker runs only what it can verify: the job's key must be the hash of its own description, seed and the
// worker's version, and the description must name no module by path (no policy module, no custom tasks): those
// would be code from the queue, not from the worker's own install.
import { InvalidArgumentError } from 'commander';
import type { ConnectionOptions } from 'bullmq';
import {
  customOf,
  isPolicyRef,
  specKey,
  validateScenario,
  ALL_SCENARIOS,
  type ScenarioSpec,
} from '@faultline/scenarios';

export interface QueueUrl {
  readonly connection: ConnectionOptions;
  /** The queue's base name (the URL's path, default `faultline`). */
  readonly name: string;
  /** The URL without its password, for printing. */
  readonly shown: string;
}

/** `redis://[user:password@]host:port/name` or `rediss://...` (TLS). */
export function parseQueueUrl(url: string): QueueUrl {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InvalidArgumentError(`--queue ${url}: not a URL; give redis://host:port/name or rediss://... (TLS)`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new InvalidArgumentError(
      `--queue ${url}: the scheme must be redis:// or rediss:// (TLS); got ${u.protocol}//`,
    );
  }
  const name = decodeURIComponent(u.pathname.replace(/^\//, '')) || 'faultline';
  if (!/^[\w.-]+$/.test(name))
    throw new InvalidArgumentError(`--queue ${url}: the queue name '${name}' may hold letters, digits, _ . - only`);
  const connection: ConnectionOptions = {
    host: u.hostname || '127.0.0.1',
    port: Number(u.port || 6379),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: { servername: u.hostname } } : {}),
    maxRetriesPerRequest: null,
  };
  const shown = `${u.protocol}//${u.username || u.password ? '***@' : ''}${u.host}/${name}`;
  return { connection, name, shown };
}

/** The queue's server did not answer within the connect time: the command ends with EXIT.queueUnreachable. */
export class QueueUnreachable extends Error {
  override readonly name = 'QueueUnreachable';
}

/** How long a command waits for the queue's server at its start: FAULTLINE_QUEUE_CONNECT_MS, default 10 s. */
export function connectTimeoutMs(): number {
  const v = Number(process.env.FAULTLINE_QUEUE_CONNECT_MS ?? 10_000);
  return Number.isFinite(v) && v > 0 ? v : 10_000;
}

/** Wait for a BullMQ Queue or Worker to reach its server, at most connectTimeoutMs: its connection's errors are
 * kept (not printed raw by the client) and the last one is named in the QueueUnreachable it throws after that. */
export async function reachQueue(
  what: {
    waitUntilReady(): Promise<unknown>;
    on(event: 'error', f: (e: Error) => void): unknown;
    close(): Promise<void>;
  },
  url: QueueUrl,
): Promise<void> {
  let last = '';
  what.on('error', (e) => {
    last = e.message;
  });
  const ms = connectTimeoutMs();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((done) => {
    timer = setTimeout(() => done('timeout'), ms);
  });
  const r = await Promise.race([what.waitUntilReady().then(() => 'ready' as const), timeout]);
  clearTimeout(timer);
  if (r === 'ready') return;
  void what.close().catch(() => undefined);
  throw new QueueUnreachable(
    `--queue ${url.shown}: no Redis server answered within ${(ms / 1000).toFixed(1)} s${last ? ` (${last})` : ''}; ` +
      "is redis-server running there (scripts/install-redis.mjs installs Debian's)? or fix the URL",
  );
}

/** The queue a version's jobs go to: other code never takes them. */
export const queueName = (base: string, version: string) => `${base}-${version.replace(/[^\w.-]/g, '_')}`;

/** What a job carries. */
export interface RunJob {
  readonly spec: ScenarioSpec;
  readonly seed: string;
  readonly version: string;
  readonly point: Record<string, string>;
}

/** Why a worker refuses a job, or null when it may run it. */
export function refusal(job: { id?: string; data: RunJob }, version: string): string | null {
  const { spec, seed } = job.data;
  if (job.data.version !== version) return `version ${job.data.version}, this worker is ${version}`;
  const errors = validateScenario(spec, ALL_SCENARIOS, true);
  if (errors.length > 0) return `its description does not validate: ${errors.join('; ')}`;
  if (isPolicyRef(spec.policy))
    return `it names a policy module by path (${spec.policy}); a queue runs built-in policies only`;
  if (spec.scenario === 'custom' && customOf(spec).tasks.length > 0)
    return 'it lists task modules by path (scenario: custom); a queue runs built-in scenarios only';
  if (job.id !== specKey(spec, seed, version)) return `its id is not the key of its description and seed (${job.id})`;
  return null;
}
