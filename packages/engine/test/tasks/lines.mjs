// Workloads for the cache-line tests (line-server.ts): readers of one rwsem, each taking and releasing it every
// `gapNs` of its own work, `rounds` times.
export function* reader(ctx) {
  const { rounds = 500, gapNs = 2_000 } = ctx.args;
  for (let i = 0; i < rounds; i++) {
    yield ctx.lockRead('sem');
    yield ctx.compute(100);
    yield ctx.unlock('sem');
    yield ctx.compute(gapNs);
  }
}

/** Bumps the shared counter line `rounds` times, `gapNs` of its own work apart. */
export function* bumper(ctx) {
  const { rounds = 500, gapNs = 2_000 } = ctx.args;
  for (let i = 0; i < rounds; i++) {
    yield ctx.atomic('counter');
    yield ctx.compute(gapNs);
  }
}

/** Takes a line as if it were a lock (refused). */
export function* misuse(ctx) {
  yield ctx.lock('counter');
}

/** Reads the shared line `rounds` times, `gapNs` of its own work apart; with `write`, bumps it after each read. */
export function* looker(ctx) {
  const { rounds = 500, gapNs = 2_000, write = false } = ctx.args;
  for (let i = 0; i < rounds; i++) {
    yield ctx.readLine('counter');
    if (write) yield ctx.atomic('counter');
    yield ctx.compute(gapNs);
  }
}
