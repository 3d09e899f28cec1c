// XState task actors for the engine's tests: the mixed generator wrapped by fromTaskGenerator, a machine that
// uses delayed transitions on simulated time, and actors that break the rules.
import { assign, setup } from 'xstate';
import { fromTaskGenerator } from '../../dist/index.js';
import mixedGenerator from './mixed.mjs';

export const mixedActor = fromTaskGenerator(mixedGenerator);

/** Allocates a page, waits 2 ms (an `after` transition), frees it, and leaves a 1 ms timer to be cancelled. */
export const timed = setup({
  actions: {
    alloc: ({ context }) => context.task.alloc('GFP_KERNEL'),
    free: ({ context }) => context.task.free(context.pfn),
    stamp: assign({ stamps: ({ context }) => [...context.stamps, context.task.now()] }),
  },
}).createMachine({
  context: ({ input }) => ({ task: input.task, pfn: -1, stamps: [] }),
  initial: 'allocating',
  states: {
    allocating: {
      entry: 'alloc',
      on: { 'task.result': { target: 'waiting', actions: assign({ pfn: ({ event }) => event.result }) } },
    },
    // The 1 ms timer of `racing` is cancelled when `waiting` is left... `waiting` fires after 2 ms.
    waiting: {
      entry: 'stamp',
      after: { 2: { target: 'freeing', actions: 'stamp' } },
    },
    freeing: {
      entry: 'free',
      on: { 'task.result': 'racing' },
    },
    racing: {
      // Leaves at once through a computed operation, so the 1 ms timer must never fire.
      entry: ({ context }) => context.task.compute(100),
      after: { 1: 'failed' },
      on: { 'task.result': 'done' },
    },
    failed: {
      entry: () => {
        throw new Error('a cancelled timer fired');
      },
    },
    done: { type: 'final' },
  },
});

export const throwsInAction = setup({}).createMachine({
  initial: 'a',
  states: {
    a: {
      entry: () => {
        throw new Error('actor action failed');
      },
    },
  },
});

export const idle = setup({}).createMachine({
  context: ({ input }) => ({ task: input.task }),
  initial: 'a',
  states: { a: { entry: ({ context }) => context.task.compute(10), on: { 'task.result': 'b' } }, b: {} },
});
