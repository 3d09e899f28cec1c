// Scheduling workloads: a CPU hog that computes in 100 us pieces for ever, and a sleeper that wakes every 1 ms and
// fails if it got the CPU later than args.maxLateNs after its sleep ended.
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
