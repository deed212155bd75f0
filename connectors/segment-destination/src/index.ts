export { createDestination, destination } from './destination.js';
export { deliverCalls, mappingOptions, type ItemResult, type PayloadSink } from './deliver.js';
export { ACTION_FOR_CALL_TYPE, type CallType } from './routing.js';
export { settingsFields, apiHost, type Settings } from './settings.js';
export { startIntake, type Intake, type IntakeOptions } from './intake/server.js';
export { BATCH_LIMIT_BYTES, CALL_LIMIT_BYTES } from './intake/body.js';
export { destination as default } from './destination.js';
