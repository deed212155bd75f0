export type { MappingIssue, MappingResult } from './issues.js';
export { parseEventTime, isKnownTimeZone, type TimeOptions, type TimeResult } from './time.js';
export { deriveInsertId, insertIdFrom } from './insert-id.js';
export { profilePropertiesFromTraits } from './traits.js';
export { toJsonValue, MAX_VALUE_DEPTH } from './json-value.js';
export {
  segmentCallSchema,
  segmentMappingOptionsSchema,
  type SegmentCall,
  type SegmentCallFields,
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
export { mapWarehouseRow, columnsRead, type RowMappingOptions } from './warehouse/map-row.js';
export {
  lookupTableMappingSchema,
  lookupTableCell,
  lookupTableColumns,
  lookupTableHeader,
  type LookupTableMapping,
} from './warehouse/lookup-table.js';
export {
  anonymousDistinctId,
  identifyAcceptsAnonId,
  originalAliasEvent,
  originalLinkEvent,
  readId,
  setEventIdentity,
  type OriginalLinkOptions,
  type RecordIds,
} from './identity-properties.js';
export { flatRowToEvent, type FlatRowOptions } from './flat-row.js';
export { mapProfileOperations, type ProfileOperationsInput } from './profile-operations.js';
