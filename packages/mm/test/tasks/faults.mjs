// Fault workloads for the mm module's tests.
import { mmap, munmap } from '../../dist/index.js';

export const BASE = 2 ** 44; // the VMA the tests map at start
const MiB = 2 ** 20;

/** Touches `count` addresses `strideBytes` apart from BASE + offset, one after another, then exits. */
export function* toucher(ctx) {
  const { count = 1024, strideBytes = 4096, offset = 0, gapNs = 200 } = ctx.args;
  for (let i = 0; i < count; i++) {
    yield ctx.touch(BASE + offset + i * strideBytes);
    yield ctx.compute(gapNs);
  }
}

/** Reads `count` pages 4 KiB apart from BASE, then (with `write`) writes them, then exits. */
export function* readThenWrite(ctx) {
  const { count = 256, write = true } = ctx.args;
  for (let i = 0; i < count; i++) {
    yield ctx.touch(BASE + i * 4096, false);
    yield ctx.compute(200);
  }
  for (let pass = 0; pass < (write ? 2 : 1); pass++)
    for (let i = 0; i < count; i++) {
      yield ctx.touch(BASE + i * 4096, pass === 0 && write); // writes, then reads of the pages now its own
      yield ctx.compute(200);
    }
}

/** After `delayNs`, touches BASE + offset once (a write unless `write` is false), then exits. */
export function* touchOnce(ctx) {
  const { offset = 0, write = true, delayNs = 0 } = ctx.args;
  if (delayNs > 0) yield ctx.compute(delayNs);
  yield ctx.touch(BASE + offset, write);
}

/** A fault storm: addresses spread 2 MiB apart (a new PTE table each), walking forever through a 64 GiB VMA. */
export function* storm(ctx) {
  const lane = ctx.args.lane ?? ctx.id;
  for (let i = 0; ; i++) {
    yield ctx.touch(BASE + ((lane * 4096 + i) % 32768) * 2 * MiB + (i % 512) * 4096);
    yield ctx.compute(300);
  }
}

/** Maps and unmaps a second VMA over and over, and now and then the storm's VMA itself. */
export function* churner(ctx) {
  const { victimPages = 0, everyNs = 200_000 } = ctx.args;
  for (let i = 0; ; i++) {
    yield ctx.sleep(everyNs);
    if (victimPages > 0 && i % 2 === 1) {
      yield* munmap(ctx, BASE, victimPages);
      yield* mmap(ctx, BASE, victimPages);
    } else {
      yield* mmap(ctx, BASE * 2, 256);
      yield* munmap(ctx, BASE * 2, 256);
    }
  }
}

/** Maps a VMA at `start`, touches `count` pages `strideBytes` apart in it, unmaps it, then sleeps. */
export function* mapTouchUnmap(ctx) {
  const { start = 2 ** 45, pages = 2 ** 24, count = 1024, strideBytes = 2 * MiB } = ctx.args;
  yield* mmap(ctx, start, pages);
  yield ctx.sleep(50_000); // the VMA lands at the window's end
  for (let i = 0; i < count; i++) yield ctx.touch(start + i * strideBytes);
  yield ctx.sleep(50_000);
  yield* munmap(ctx, start, pages);
  yield ctx.sleep(1_000_000_000);
}

/** Faults in its own region in a loop, counting each fault's time (for munmap's downgrade). */
export function* regionToucher(ctx) {
  const { start, count = 2000, strideBytes = 2 * MiB, startNs = 0 } = ctx.args;
  if (startNs > 0) yield ctx.sleep(startNs);
  for (let i = 0; i < count; i++) yield ctx.touch(start + i * strideBytes);
}

/** Maps a region with `count` PTE tables, then unmaps it: a long zap. */
export function* bigUnmap(ctx) {
  const { start, count = 1500, strideBytes = 2 * MiB, costNs } = ctx.args;
  const pages = (count * strideBytes) / 4096;
  for (let i = 0; i < count; i++) yield ctx.touch(start + i * strideBytes);
  yield ctx.sleep(100_000);
  yield* munmap(ctx, start, pages, costNs);
  yield ctx.sleep(1_000_000_000);
}

/** Wakes every `everyNs` for 1 us of work, counting its rounds (ctx.count 'rounds'): a task beside a storm. */
export function* ticker(ctx) {
  const { everyNs = 100_000 } = ctx.args;
  for (;;) {
    yield ctx.sleep(everyNs);
    yield ctx.compute(1_000);
    ctx.count('rounds');
  }
}
