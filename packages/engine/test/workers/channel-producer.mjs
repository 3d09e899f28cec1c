// A commit channel's producer on its own thread (commit-channel.test.ts): for each round, `frees` frees of
// (round, i), then the round's answer (odd rounds leave work).
import { workerData } from 'node:worker_threads';
import { CommitChannel } from '../../dist/commit-channel.js';

const { buffer, ctl, rounds, frees } = workerData;
const channel = new CommitChannel(buffer, new Int32Array(ctl), { ns: 0 });
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < frees; i++) channel.free(r, i);
  channel.finish(r % 2 === 1);
}
