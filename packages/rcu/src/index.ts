// @faultline/rcu: RCU as a kernel module for the faultline engine.
export {
  RCU,
  rcuReadLock,
  rcuReadUnlock,
  rcuNesting,
  callRcu,
  kfreeRcu,
  kfreeRcuBatch,
  synchronizeRcu,
} from './api.js';
export { rcuModulePath, RCU_DEFAULTS, fqsJiffies } from './module.js';
export type { RcuReport } from './module.js';
export { gpMachine } from './gp-machine.js';
export type { GpOps } from './gp-machine.js';
export { RCU_GP_STATE_NAMES } from './layout.js';
