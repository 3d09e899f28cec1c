// The benchmark's workload as an XState machine: the same work as synthetic.mjs (short computes, an allocation or
// free every tenth step, a fraction `cross` of steps sending to another CPU), with every step a transition of a
// real machine, so XState's own cost is in the loop.
import { assign, setup } from 'xstate';

export default setup({
  guards: {
    memoryTurn: ({ context }) => context.i % 10 === 0,
    crosses: ({ context }) => context.roll < context.cross,
  },
  actions: {
    compute: ({ context }) => context.task.compute(200 + ((context.i * 37) % 400)),
    roll: assign({ roll: ({ context }) => context.task.random() }),
    memory: ({ context }) => {
      if (context.held.length < 32) context.task.alloc('GFP_KERNEL');
      else context.task.free(context.held.pop());
    },
    keep: ({ context, event }) => {
      if (event.op === 'alloc' && event.result >= 0) context.held.push(event.result);
    },
    send: ({ context }) => {
      const { task } = context;
      task.send((task.cpu + 1 + Math.floor(task.random() * (task.cpus - 1))) % task.cpus, context.i);
    },
    next: assign({ i: ({ context }) => context.i + 1 }),
  },
}).createMachine({
  context: ({ input }) => ({ task: input.task, i: 0, roll: 1, held: [], cross: Number(input.task.args.cross ?? 0.01) }),
  initial: 'computing',
  states: {
    computing: {
      entry: 'compute',
      on: { 'task.result': [{ guard: 'memoryTurn', target: 'memory' }, { target: 'deciding' }] },
    },
    memory: { entry: 'memory', on: { 'task.result': { target: 'deciding', actions: 'keep' } } },
    deciding: {
      entry: 'roll',
      always: [
        { guard: 'crosses', target: 'sending' },
        { target: 'computing', actions: 'next' },
      ],
    },
    sending: { entry: 'send', on: { 'task.result': { target: 'computing', actions: 'next' } } },
  },
});
