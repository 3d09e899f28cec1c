// A user's fault policy as an XState machine: spf-nowait-literal (a failed GFP_NOWAIT table refaults), but after 3
// refaults it gives up and takes the classic path (so the task reclaims after all). It uses the built-in steps and
// adds one guard.
import { setup } from 'xstate';
import { spfNowaitLiteralMachine } from '../../dist/index.js';

const states = { ...spfNowaitLiteralMachine.config.states };
states.refault = { on: { done: [{ guard: 'tooMany', target: 'fallBack' }, { target: 'writer' }] } };

export const capped = {
  machine: setup({}).createMachine({ id: 'capped', initial: 'writer', states }),
  guards: { tooMany: (run) => (run.refaults = (run.refaults ?? 0) + 1) > 3 },
};
