// A custom task actor: allocate a page, work on it, free it now and then, and tell the next CPU about it.
// Run it:  faultline run --task ./examples/alloc-churn.ts --cpus 4 --workers 4 --no-follow-load --seed 42 \
//             --duration 10ms
import { defineTask, type TaskContext } from '@faultline/engine';

export default defineTask(function* churn(ctx: TaskContext) {
  const held: number[] = [];
  const masks = ['GFP_KERNEL', 'GFP_NOWAIT|__GFP_NOMEMALLOC|__GFP_NOWARN'];
  for (;;) {
    const mask = masks[ctx.random() < 0.7 ? 0 : 1]!;
    const pfn: number = yield ctx.alloc(mask);
    if (pfn >= 0) held.push(pfn);
    yield ctx.compute(200 + Math.floor(ctx.random() * 800));
    if (held.length > 64 || (held.length > 0 && ctx.random() < 0.4)) yield ctx.free(held.shift()!);
    if (ctx.random() < 0.01) yield ctx.send((ctx.cpu + 1) % ctx.cpus, pfn);
    if (ctx.random() < 0.001) yield ctx.sleep(5_000);
  }
});
