// A task that does a bit of everything: allocations of several orders and masks, compute, sleeps, messages to
// other CPUs and blocking receives, so a determinism check covers every kind of cross-CPU effect.
export default function* mixed(ctx) {
  const held = [];
  const masks = ['GFP_KERNEL', 'GFP_NOWAIT|__GFP_NOMEMALLOC|__GFP_NOWARN', 'GFP_ATOMIC'];
  for (let i = 0; ; i++) {
    const order = ctx.random() < 0.1 ? 1 + Math.floor(ctx.random() * 3) : 0;
    const pfn = yield ctx.alloc(masks[Math.floor(ctx.random() * masks.length)], order);
    if (pfn >= 0) held.push(pfn);
    yield ctx.compute(100 + Math.floor(ctx.random() * 2000));
    if (held.length > 0 && (held.length > 200 || ctx.random() < 0.45))
      yield ctx.free(held.splice(Math.floor(ctx.random() * held.length), 1)[0]);
    if (ctx.random() < 0.05) yield ctx.send(Math.floor(ctx.random() * ctx.cpus), i);
    if (ctx.random() < 0.02) yield ctx.sleep(Math.floor(ctx.random() * 20_000));
    if (ctx.args.receiver && ctx.random() < 0.01) yield ctx.recv();
    if (ctx.random() < 0.01) yield ctx.yield();
  }
}

/** Sends to everyone now and then so that receivers never starve. */
export function* pinger(ctx) {
  for (;;) {
    yield ctx.compute(5_000);
    yield ctx.send(Math.floor(ctx.random() * ctx.cpus), ctx.id);
  }
}
