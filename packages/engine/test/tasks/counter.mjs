// A task that keeps counters of its own (ctx.count): one per round, its CPU's number added each round, and a
// counter it never touches after a bad value is refused.
export function* counter(ctx) {
  for (let i = 0; i < 10; i++) {
    ctx.count('rounds');
    ctx.count('cpu', ctx.cpu);
    yield ctx.compute(1_000);
  }
  try {
    ctx.count('bad', Number.NaN);
  } catch {
    ctx.count('refused');
  }
}
