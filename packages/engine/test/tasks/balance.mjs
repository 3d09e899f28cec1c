// Workloads for the engine's wake placement tests (balance.ts).

/** Computes `ns` in one piece, then exits: keeps its CPU busy. */
export function* hog(ctx) {
  yield ctx.compute(ctx.args.ns ?? 1_000_000);
}

/** `rounds` times: sleeps `sleepNs`, then computes `workNs`; counts each piece of work under the CPU it ran on
 * (ctx.cpu) and records when its last round ended. */
export function* sleeper(ctx) {
  const { rounds = 20, sleepNs = 30_000, workNs = 20_000 } = ctx.args;
  for (let i = 0; i < rounds; i++) {
    yield ctx.sleep(sleepNs + Math.floor(ctx.random() * 5_000));
    yield ctx.compute(workNs);
    ctx.count(`on cpu ${ctx.cpu}`);
  }
}
