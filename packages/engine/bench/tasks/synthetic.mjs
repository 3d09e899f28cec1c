// The benchmark's workload: local events (short computes) with a fraction `cross` of them sending a message to
// another CPU; every tenth event allocates or frees a page, so the zone's per-CPU path is in the loop too.
export default function* synthetic(ctx) {
  const cross = Number(ctx.args.cross ?? 0.01);
  const held = [];
  for (let i = 0; ; i++) {
    yield ctx.compute(200 + ((i * 37) % 400));
    if (i % 10 === 0) {
      if (held.length < 32) {
        const p = yield ctx.alloc('GFP_KERNEL');
        if (p >= 0) held.push(p);
      } else yield ctx.free(held.pop());
    }
    if (ctx.random() < cross) yield ctx.send((ctx.cpu + 1 + Math.floor(ctx.random() * (ctx.cpus - 1))) % ctx.cpus, i);
  }
}
