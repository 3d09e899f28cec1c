// Tasks that go wrong on purpose.
export function* thrower(ctx) {
  yield ctx.compute(Number(ctx.args.afterNs ?? 1000));
  if (ctx.cpu === Number(ctx.args.cpu ?? 1)) throw new Error('boom');
  for (;;) yield ctx.compute(1000);
}

/** Everyone waits for a message nobody sends. */
export function* waiter(ctx) {
  yield ctx.compute(500);
  yield ctx.recv();
}

export function* doubleFree(ctx) {
  const pfn = yield ctx.alloc('GFP_KERNEL');
  yield ctx.free(pfn);
  yield ctx.free(pfn);
}

export function* finisher(ctx) {
  for (let i = 0; i < 10; i++) yield ctx.compute(1000);
}

export const notAFunction = 42;

/** On cpu 1, after 500 steps, ends its worker thread (a task calling process.exit). */
export function* quitter(ctx) {
  for (let i = 0; ; i++) {
    yield ctx.compute(1000);
    if (ctx.cpu === 1 && i === 500) process.exit(7);
  }
}

/** On cpu 1, after 500 steps, never yields again (a task stuck in a loop). */
export function* spinner(ctx) {
  for (let i = 0; ; i++) {
    yield ctx.compute(1000);
    if (ctx.cpu === 1 && i === 500)
      for (;;) {
        /* never yields */
      }
  }
}
