/**
 * `idmerge collect` alone: the intake without the Segment Actions destination, whose modules
 * (actions-core and what it loads) the intake never uses and a collect process need not load.
 */
export { startCollect, type Collect, type CollectOptions, type CollectSnapshot } from './collect.js';
export { loadWriteKeys } from './auth.js';
export { createLogger, type Logger } from './logger.js';
export { BATCH_LIMIT_BYTES, CALL_LIMIT_BYTES } from './body.js';
