export {
  parseSyncDefinition,
  loadSyncDefinition,
  syncDefinitionSchema,
  DefinitionError,
  isLookupSync,
  type LookupSyncDefinition,
  type RowSyncDefinition,
  type SyncDefinition,
} from './definition.js';
export { runLookupSync, megabytes, type LookupOutcome, type LookupRunReport } from './lookup/run.js';
export { previewLookupTable, type LookupPreviewReport } from './lookup/preview.js';
export { writeLookupCsv, type LookupCsv, type LookupProblem } from './lookup/table-csv.js';
export type { WarehouseSource, ReadWindow, Page, PagePosition, Row, ColumnInfo } from './sources/source.js';
export { createDuckDbSource, type DuckDbSourceOptions } from './sources/duckdb.js';
export {
  createSnowflakeSource,
  snowflakeOptionsFrom,
  SnowflakeSettingsError,
  type SnowflakeSourceOptions,
} from './sources/snowflake.js';
export {
  createPostgresSource,
  postgresOptionsFrom,
  PostgresSettingsError,
  type PostgresSourceOptions,
} from './sources/postgres.js';
export { StateStore, syncStateSchema, type SyncState } from './state.js';
export { runSync, type RunOptions, type RunReport } from './run.js';
export { createSource } from './sources/create.js';
export { previewSync, type PreviewReport, type PreviewWarning } from './preview.js';
export { buildDemoWarehouse, writeDemoDefinitions } from './demo/warehouse.js';
export { pageMapper, windowFor, type MappedPage, type MappedRow, type MappingSource } from './map-page.js';
export { createSourceInWorker, type SourceInWorkerOptions } from './worker/source-in-worker.js';
export { serveSource } from './worker/serve-source.js';
export { isSourceWorkerData, type SourceWorkerData } from './worker/protocol.js';
