/**
 * The shared sender and what it is made of, one job a module:
 * - sender.ts: `createSender`, the `Sender` every path delivers through (dry-run.ts: one that sends nothing);
 * - batching.ts: filling one batch per endpoint and sealing it into a request body (gzip for /import);
 * - dispatch.ts: sending sealed batches (concurrency, rate caps) and acting on each retry decision;
 * - retry.ts: `decideRetry`, the spec's retry rules as a pure function of what a request got;
 * - answers.ts: the one reader of Mixpanel's answers (statuses, strict failures, 1/0 answers);
 * - dead-letters.ts: counting and writing what was not delivered; dead-letter-file.ts: where it goes;
 * - request.ts (URLs, auth), transport.ts (HTTP), rate-limit.ts, backoff.ts, report.ts, config.ts.
 */
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
export { createTransport, putFile, TransportError, type Transport, type HttpResponse } from './transport.js';
export {
  classifyStatus,
  readFailedRecords,
  readLookupTableRefusal,
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
export {
  lookupTableAuth,
  lookupTableUrl,
  replaceLookupTable,
  type LookupTableOptions,
  type LookupTableOutcome,
  type LookupTableUpload,
} from './lookup-table.js';
