// A custom task actor as an XState machine: under mmap_lock for read it allocates a page-table-like page with a
// non-sleeping mask, backs off for a while (a delayed transition on simulated time) when the allocation fails,
// and now and then takes mmap_lock for write, as munmap would.
// Run it:  faultline run --task ./examples/mmap-reader.ts --lock mmap_lock:rwsem --cpus 4 --seed 42 --duration 10ms
import { assign, setup } from 'xstate';
import type { TaskActorInput, TaskResultEvent } from '@faultline/engine';

interface Context extends TaskActorInput {
  held: number[];
  writer: boolean;
}

export default setup({
  types: { input: {} as TaskActorInput, context: {} as Context, events: {} as TaskResultEvent },
  actions: {
    lock: ({ context }) => (context.writer ? context.task.lock('mmap_lock') : context.task.lockRead('mmap_lock')),
    alloc: ({ context }) => context.task.alloc('GFP_NOWAIT|__GFP_NOMEMALLOC|__GFP_NOWARN'),
    keep: ({ context, event }) => {
      if (event.result >= 0) context.held.push(event.result);
    },
    work: ({ context }) =>
      context.task.compute(context.writer ? 20_000 : 500 + Math.floor(context.task.random() * 1_000)),
    unlock: ({ context }) => context.task.unlock('mmap_lock'),
    release: ({ context }) => context.task.free(context.held.shift()!),
    choose: assign({ writer: ({ context }) => context.task.random() < 0.02 }),
  },
  guards: {
    failed: ({ event }) => event.result < 0,
    holdsMany: ({ context }) => context.held.length > 32,
  },
}).createMachine({
  context: ({ input }) => ({ ...input, held: [], writer: false }),
  initial: 'locking',
  states: {
    locking: { entry: ['choose', 'lock'], on: { 'task.result': 'allocating' } },
    allocating: {
      entry: 'alloc',
      on: {
        'task.result': [
          { guard: 'failed', target: 'unlockingToBackOff' },
          { target: 'working', actions: 'keep' },
        ],
      },
    },
    working: { entry: 'work', on: { 'task.result': 'unlocking' } },
    unlocking: {
      entry: 'unlock',
      on: { 'task.result': [{ guard: 'holdsMany', target: 'freeing' }, { target: 'locking' }] },
    },
    freeing: { entry: 'release', on: { 'task.result': 'locking' } },
    unlockingToBackOff: { entry: 'unlock', on: { 'task.result': 'backingOff' } },
    // 50 us of simulated time (XState delays are in ms): the task sleeps until then.
    backingOff: { after: { 0.05: 'locking' } },
  },
});
