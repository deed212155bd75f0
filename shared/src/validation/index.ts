export {
  INVALID_IDS,
  idVerdict,
  isAnonUuidForm,
  isBlank,
  isInvalidId,
  isUuidV4,
  isValidInsertId,
  usableId,
  type IdVerdict,
} from './ids.js';
export { LIMITS, EARLIEST_EVENT_MS, MAX_FUTURE_MS, MAX_VALUE_DEPTH, describeInstant } from './limits.js';
export { identifyParties, type IdentifyParties } from './identify.js';
export {
  validateEvent,
  eventViolations,
  eventTimeMs,
  isMixpanelEvent,
  IDENTITY_EVENTS,
  SIMPLIFIED_IDENTITY_EVENT_MESSAGE,
  type EventValidation,
  type ValidationOptions,
} from './event.js';
export { validateEngageUpdate, validateGroupUpdate } from './profile.js';
export { hasLoneSurrogate, type Violation } from './values.js';
