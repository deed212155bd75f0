export { createDestination, destination } from './destination.js';
export { deliverCalls, mappingOptions, type ItemResult, type PayloadSink } from './deliver.js';
export { ACTION_FOR_CALL_TYPE, type CallType } from './routing.js';
export { settingsFields, apiHost, type Settings } from './settings.js';
export * from './intake/index.js';
export { destination as default } from './destination.js';
