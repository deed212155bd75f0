export {
  loadMixpanelConfig,
  redact,
  secretForms,
  secretsFromEnv,
  ConfigError,
  REGION_HOSTS,
  type MixpanelConfig,
  type MixpanelAuth,
  type Region,
} from './config.js';
export { createSender, type Sender, type SenderOptions } from './sender.js';
export { createDeadLetterFile, createDeadLetterList, type DeadLetterSink } from './dead-letter-file.js';
export {
  formatReport,
  type DeadLetterEntry,
  type DeadLetterStage,
  type DeliveryReport,
  type Undelivered,
} from './report.js';
export { SPEC_BACKOFF, backoffDelay, retryAfterMs, type BackoffPolicy } from './backoff.js';
export { createTransport, TransportError, type Transport, type HttpResponse } from './transport.js';
