export {
  loadMixpanelConfig,
  redact,
  ConfigError,
  REGION_HOSTS,
  type MixpanelConfig,
  type MixpanelAuth,
  type Region,
} from './config.js';
export { createSender, type Sender, type SenderOptions } from './sender.js';
export { createDeadLetterFile, createDeadLetterList, type DeadLetterSink } from './dead-letter-file.js';
export { formatReport, type DeadLetterEntry, type DeadLetterStage, type DeliveryReport } from './report.js';
export { SPEC_BACKOFF, backoffDelay, retryAfterMs, type BackoffPolicy } from './backoff.js';
export { createTransport, TransportError, type Transport, type HttpResponse } from './transport.js';
export {
  classifyStatus,
  readFailedRecords,
  readStatusReply,
  readStrictFailure,
  type FailedRecord,
  type StatusClass,
  type StrictFailure,
} from './answers.js';
export {
  decideRetry,
  FIRST_ATTEMPT,
  type Attempts,
  type RequestOutcome,
  type RetryDecision,
  type RetryInput,
  type RetrySettings,
} from './retry.js';
export { createDryRunSender } from './dry-run.js';
