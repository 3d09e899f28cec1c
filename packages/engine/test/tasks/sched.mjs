// Scheduling workloads: a CPU hog that computes in 100 us pieces for ever, a sleeper that wakes every 1 ms and
// fails if it got the CPU later than args.maxLateNs after its sleep ended, and a task that sleeps once (waker).
export function* hog(ctx) {
  for (;;) yield ctx.compute(100_000);
}

export function* sleeper(ctx) {
  const maxLateNs = ctx.args.maxLateNs ?? 200_000;
  for (let i = 0; ; i++) {
    const due = ctx.now() + 1_000_000;
    yield ctx.sleep(1_000_000);
    const late = ctx.now() - due;
    if (late > maxLateNs) throw new Error(`woke ${late} ns late on round ${i}`);
    yield ctx.compute(10_000);
  }
}

/** The sleeper, counting its rounds and how late it ran on the first (counters: rounds, firstLateNs). */
export function* countingSleeper(ctx) {
  const maxLateNs = ctx.args.maxLateNs ?? 200_000;
  for (let i = 0; ; i++) {
    const due = ctx.now() + 1_000_000;
    yield ctx.sleep(1_000_000);
    const late = ctx.now() - due;
    ctx.count('rounds');
    if (i === 0) ctx.count('firstLateNs', late);
    if (late > maxLateNs) throw new Error(`woke ${late} ns late on round ${i}`);
    yield ctx.compute(10_000);
  }
}

/** Computes args.computeNs (if any), sleeps args.sleepNs, then computes args.thenNs (if any) and exits. Counters:
 * latencyNs (from the end of its sleep to running again), doneAtNs (when it finished). */
export function* waker(ctx) {
  if (ctx.args.computeNs) yield ctx.compute(ctx.args.computeNs);
  const due = ctx.now() + ctx.args.sleepNs;
  yield ctx.sleep(ctx.args.sleepNs);
  ctx.count('latencyNs', ctx.now() - due);
  if (ctx.args.thenNs) yield ctx.compute(ctx.args.thenNs);
  ctx.count('doneAtNs', ctx.now());
}

/** A hog inside the kernel: holds lock 'm' while it computes 2 ms in 100 us pieces, then drops it for 100 us. */
export function* lockedHog(ctx) {
  for (;;) {
    yield ctx.lock('m');
    for (let i = 0; i < 20; i++) yield ctx.compute(100_000);
    yield ctx.unlock('m');
    yield ctx.compute(100_000);
  }
}
