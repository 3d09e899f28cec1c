// The parallel commit's channel and plan: frees arrive on worker 0 in the order the other worker made them, however
// many a round makes against the ring's size; each round's answer arrives with it; an abort ends a wait; and the
// plan spreads the offloadable steps over the workers other than 0.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { BarrierAborted } from '../dist/barrier.js';
import { channelBytes, CommitChannel, commitPlan } from '../dist/commit-channel.js';
import { C_ABORT } from '../dist/layout.js';

const ctlBuffer = () => new SharedArrayBuffer(64 * 4);

describe('commit channel', () => {
  it('replays every free in order across rounds, with more frees per round than the ring holds', async () => {
    const buffer = new SharedArrayBuffer(channelBytes(7));
    const ctl = ctlBuffer();
    const rounds = 5;
    const frees = 1000;
    const producer = new Worker(new URL('./workers/channel-producer.mjs', import.meta.url), {
      workerData: { buffer, ctl, rounds, frees },
    });
    const exited = new Promise((resolve) => producer.once('exit', resolve));
    const waits = { ns: 0 };
    const channel = new CommitChannel(buffer, new Int32Array(ctl), waits);
    const answers: boolean[] = [];
    let bad = 0;
    let seen = 0;
    for (let r = 0; r < rounds; r++) {
      let i = 0;
      answers.push(
        channel.drain((cpu, pfn) => {
          if (cpu !== r || pfn !== i) bad++;
          i++;
          seen++;
        }),
      );
      expect(i).toBe(frees);
    }
    expect(await exited).toBe(0);
    expect(bad).toBe(0);
    expect(seen).toBe(rounds * frees);
    expect(answers).toEqual([false, true, false, true, false]);
    expect(waits.ns).toBeGreaterThan(0);
  });

  it('a wait on a step that never ends gives up when the run is aborted', () => {
    const ctl = new Int32Array(ctlBuffer());
    Atomics.store(ctl, C_ABORT, 1);
    const channel = new CommitChannel(new SharedArrayBuffer(channelBytes(4)), ctl, { ns: 0 });
    expect(() => channel.drain(() => undefined)).toThrow(BarrierAborted);
  });

  it('refuses a buffer too small for one free', () => {
    expect(
      () => new CommitChannel(new SharedArrayBuffer(channelBytes(0)), new Int32Array(ctlBuffer()), { ns: 0 }),
    ).toThrow(/holds no free/);
  });
});

describe('commit plan', () => {
  it('keeps everything on worker 0 with one worker', () => {
    expect(commitPlan(1, true, [false, true, true])).toEqual({ lockWorker: 0, moduleWorkers: [-1, 0, 0] });
  });
  it('spreads the lock replay and parallel modules round-robin over workers 1 ..', () => {
    expect(commitPlan(2, true, [false, false, true])).toEqual({ lockWorker: 1, moduleWorkers: [-1, -1, 1] });
    expect(commitPlan(3, true, [true, false, true])).toEqual({ lockWorker: 1, moduleWorkers: [2, -1, 1] });
    expect(commitPlan(4, false, [true, true])).toEqual({ lockWorker: 0, moduleWorkers: [1, 2] });
  });
});
