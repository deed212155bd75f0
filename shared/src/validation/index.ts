export { INVALID_IDS, isAnonUuidForm, isInvalidId, isUuidV4, isValidInsertId } from './ids.js';
export { identifyParties, type IdentifyParties } from './identify.js';
export { LIMITS, EARLIEST_EVENT_MS, MAX_FUTURE_MS } from './limits.js';
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
