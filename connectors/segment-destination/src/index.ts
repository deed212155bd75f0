export { createDestination, destination } from './destination.js';
export { deliverCalls, mappingOptions, type ItemResult, type PayloadSink } from './deliver.js';
export { ACTION_FOR_CALL_TYPE, type CallType } from './routing.js';
export { settingsFields, apiHost, type Settings } from './settings.js';
export { startCollect, type Collect, type CollectOptions, type CollectSnapshot } from './intake/collect.js';
export { loadWriteKeys } from './intake/auth.js';
export { createLogger, type Logger } from './intake/logger.js';
export { BATCH_LIMIT_BYTES, CALL_LIMIT_BYTES } from './intake/body.js';
export { destination as default } from './destination.js';
