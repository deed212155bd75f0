export { startSandbox, type SandboxOptions, type RunningSandbox } from './server.js';
export { parseFaultSpec, seededRandom, FAULT_KINDS, type FaultSpec } from './faults.js';
export type { SandboxStats } from './control.js';
