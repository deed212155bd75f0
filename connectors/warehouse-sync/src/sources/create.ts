import { isAbsolute, resolve } from 'node:path';
import type { SyncDefinition } from '../definition.js';
import { createDuckDbSource } from './duckdb.js';
import type { WarehouseSource } from './source.js';

/** The source a definition names; relative database paths are relative to the definition file. */
export function createSource(definition: SyncDefinition, definitionDir: string): WarehouseSource {
  const source = definition.source;
  const database =
    source.database === ':memory:' || isAbsolute(source.database)
      ? source.database
      : resolve(definitionDir, source.database);
  return createDuckDbSource({
    database,
    query: source.query,
    table: source.table,
    cursor: source.cursor,
    primaryKey: source.primary_key,
  });
}
