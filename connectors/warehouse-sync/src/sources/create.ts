import { isAbsolute, resolve } from 'node:path';
import type { SyncDefinition } from '../definition.js';
import { bigQueryOptionsFrom, createBigQuerySource } from './bigquery.js';
import { createDuckDbSource } from './duckdb.js';
import { mappedColumns } from '../mapping-columns.js';
import { createPostgresSource, postgresOptionsFrom } from './postgres.js';
import { createSnowflakeSource, snowflakeOptionsFrom } from './snowflake.js';
import type { WarehouseSource } from './source.js';

/**
 * The source a definition names. Relative DuckDB paths are relative to the definition file;
 * Snowflake, BigQuery, PostgreSQL and Redshift settings missing from the definition are read from `env`.
 */
export function createSource(
  definition: SyncDefinition,
  definitionDir: string,
  env: NodeJS.ProcessEnv = process.env,
): WarehouseSource {
  const source = definition.source;
  switch (source.type) {
    case 'duckdb': {
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
        memoryLimit: source.memory_limit,
      });
    }
    case 'snowflake':
      return createSnowflakeSource(snowflakeOptionsFrom(source, env));
    case 'bigquery':
      return createBigQuerySource(bigQueryOptionsFrom(source, env));
    case 'postgres':
    case 'redshift':
      return createPostgresSource({
        ...postgresOptionsFrom(source, env, definitionDir),
        mappedColumns: mappedColumns(definition.mapping),
      });
  }
}
