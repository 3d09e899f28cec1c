// A buggy pair for the determinism of task errors: CPU 0 allocates a page and sends its pfn to CPUs 1 and 2; each
// receiver waits until simulated time args.freeAtNs (its own, per CPU) and frees it. The second free is the bug.
export function* giver(ctx) {
  const pfn = yield ctx.alloc('GFP_KERNEL');
  yield ctx.send(1, pfn);
  yield ctx.send(2, pfn);
  yield ctx.sleep(1_000_000);
}

export function* receiver(ctx) {
  const pfn = yield ctx.recv();
  const at = ctx.args.freeAtNs[ctx.cpu];
  if (ctx.now() < at) yield ctx.compute(at - ctx.now());
  yield ctx.free(pfn);
  yield ctx.sleep(1_000_000);
}
