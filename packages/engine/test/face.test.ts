// The engine's two faces: `@faultline/engine` for a run's driver and a task, `@faultline/engine/module` for a kernel
// module. Each name is on one face only, so that what a reader imports says which side of the engine it writes.
import { describe, expect, it } from 'vitest';
import * as root from '@faultline/engine';
import * as sdk from '@faultline/engine/module';

describe('the faces', () => {
  it('keeps the module SDK off the run face, and the run API off the module face', () => {
    for (const name of ['defineKernelModule', 'moduleState', 'parkOp', 'compileMachine', 'runMachine', 'logAppend'])
      expect([name, name in root, name in sdk]).toEqual([name, false, true]);
    for (const name of ['runSimulation', 'defineTask', 'reportOf', 'EnginePool', 'resolveRunConfig', 'TR_BEGIN'])
      expect([name, name in root, name in sdk]).toEqual([name, true, false]);
    const both = Object.keys(sdk).filter((k) => k in root);
    expect(both).toEqual([]);
  });
  it('keeps the run face at 56 values (it had 73 before the module SDK moved out)', () => {
    // A new value on the run face is a decision: its README says what it is for, and this bound moves with it.
    expect(Object.keys(root).length).toBeLessThanOrEqual(56);
  });
});
