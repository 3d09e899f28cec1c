// Lock workloads for the engine's tests.

/** Takes a lock, holds it for `holdNs`, releases it, computes `gapNs`; `rounds` times (after `startNs` asleep). */
export function* critical(ctx) {
  const { lock, holdNs = 1_000, gapNs = 500, rounds = 200, read = false, startNs = 0 } = ctx.args;
  if (startNs > 0) yield ctx.sleep(startNs);
  for (let i = 0; i < rounds; i++) {
    yield read ? ctx.lockRead(lock) : ctx.lock(lock);
    yield ctx.compute(holdNs + Math.floor(ctx.random() * 200));
    yield ctx.unlock(lock);
    yield ctx.compute(gapNs + Math.floor(ctx.random() * 200));
  }
}

/** Readers that overlap so that the rwsem is never free of readers. */
export function* reader(ctx) {
  for (;;) {
    yield ctx.lockRead('sem');
    yield ctx.compute(50_000);
    yield ctx.unlock('sem');
    yield ctx.compute(1_000);
  }
}

/** A writer that wants the rwsem every millisecond. */
export function* writer(ctx) {
  for (let i = 0; i < ctx.args.rounds; i++) {
    yield ctx.sleep(1_000_000);
    yield ctx.lock('sem');
    yield ctx.compute(10_000);
    yield ctx.unlock('sem');
  }
}

/** A then B, or B then A: two of these deadlock. */
export function* ordered(ctx) {
  const [first, second] = ctx.args.order;
  yield ctx.lock(first);
  yield ctx.compute(50_000);
  yield ctx.lock(second);
  yield ctx.unlock(second);
  yield ctx.unlock(first);
}

export function* exitsHolding(ctx) {
  yield ctx.lock('m');
}

export function* unlocksUnheld(ctx) {
  yield ctx.unlock('m');
}

/** Computes in small steps, so that it would run if its CPU were free. */
export function* bystander(ctx) {
  for (;;) yield ctx.compute(1_000);
}

/** Takes `lock` for write `rounds` times, holding it `holdNs`, `gapNs` apart (computing); optionally sleeps
 * `sleepHeldNs` while holding it. */
export function* holder(ctx) {
  const { lock, holdNs = 1_000, gapNs = 5_000, rounds = 100, sleepHeldNs = 0, startNs = 0 } = ctx.args;
  if (startNs > 0) yield ctx.sleep(startNs);
  for (let i = 0; i < rounds; i++) {
    yield ctx.lock(lock);
    if (sleepHeldNs > 0) yield ctx.sleep(sleepHeldNs);
    yield ctx.compute(holdNs);
    yield ctx.unlock(lock);
    yield ctx.compute(gapNs);
  }
}

/** Holds `sem` for read for `holdNs` at a time, `gapNs` apart, `rounds` times. */
export function* longReader(ctx) {
  const { holdNs = 50_000, rounds = 20, gapNs = 100 } = ctx.args;
  for (let i = 0; i < rounds; i++) {
    yield ctx.lockRead('sem');
    yield ctx.compute(holdNs);
    yield ctx.unlock('sem');
    yield ctx.compute(gapNs);
  }
}

/** munmap's pattern: write-lock, a short write part, downgrade to read, a long read part, unlock. */
export function* downgrader(ctx) {
  const { writeNs = 2_000, readNs = 100_000, rounds = 10, downgrade = true } = ctx.args;
  for (let i = 0; i < rounds; i++) {
    yield ctx.lock('sem');
    yield ctx.compute(writeNs);
    if (downgrade) yield ctx.downgrade('sem');
    yield ctx.compute(readNs);
    yield ctx.unlock('sem');
    yield ctx.sleep(50_000);
  }
}

/** Faults' pattern: short read holds, `gapNs` apart. */
export function* shortReader(ctx) {
  const { holdNs = 1_000, gapNs = 2_000 } = ctx.args;
  for (;;) {
    yield ctx.lockRead('sem');
    yield ctx.compute(holdNs);
    yield ctx.unlock('sem');
    yield ctx.compute(gapNs);
  }
}

/** After `startNs` asleep, computes `ns` in one piece: keeps its CPU busy. */
export function* hog(ctx) {
  if (ctx.args.startNs) yield ctx.sleep(ctx.args.startNs);
  yield ctx.compute(ctx.args.ns ?? 1_000_000);
}
