export type { MappingIssue, MappingResult } from './issues.js';
export { parseEventTime, isKnownTimeZone, type TimeOptions, type TimeResult } from './time.js';
export { deriveInsertId, insertIdFrom } from './insert-id.js';
export { profilePropertiesFromTraits, toJsonValue } from './traits.js';
export {
  segmentCallSchema,
  segmentMappingOptionsSchema,
  type SegmentCall,
  type SegmentMappingOptions,
} from './segment/schema.js';
export { mapSegmentCall } from './segment/map-call.js';
export {
  columnMappingSchema,
  type ColumnMapping,
  type ColumnMappingInput,
  type EventsMapping,
  type GroupsMapping,
  PROFILE_OPERATIONS,
  GROUP_OPERATIONS,
  type ProfileOperation,
  type IdentitiesMapping,
  type ProfilesMapping,
} from './warehouse/column-mapping.js';
export { mapWarehouseRow, columnsRead, idValue, type RowMappingOptions } from './warehouse/map-row.js';
export { flatRowToEvent, type FlatRowOptions } from './flat-row.js';
export { mapProfileOperations, type ProfileOperationsInput } from './profile-operations.js';
