import type { BigQueryField } from './bigquery-values.js';
import {
  ISO_TIMESTAMP_PATTERN,
  type ColumnKind,
  type SqlDialect,
  type WindowColumn,
  type WindowSpec,
} from './window.js';

/** A GoogleSQL statement with named parameters (`@name`), every value sent as STRING and cast in SQL. */
export interface BigQueryStatement {
  query: string;
  params: Record<string, string>;
}

export const quote = (name: string) => `\`${name.replaceAll('`', '\\`')}\``;

/** The GoogleSQL name of a schema type, for CAST. */
export function castType(field: BigQueryField): string {
  switch (field.type) {
    case 'INTEGER':
      return 'INT64';
    case 'FLOAT':
      return 'FLOAT64';
    case 'BOOLEAN':
      return 'BOOL';
    default:
      return field.type;
  }
}

/** What a BigQuery column allows the window to do. */
function kindOf(field: BigQueryField): ColumnKind {
  if (field.mode === 'REPEATED') return 'unorderable';
  switch (field.type) {
    case 'TIMESTAMP':
    case 'DATETIME':
      return 'timestamp';
    case 'DATE':
      return 'date';
    case 'INTEGER':
    case 'INT64':
    case 'FLOAT':
    case 'FLOAT64':
    case 'NUMERIC':
    case 'BIGNUMERIC':
      return 'number';
    case 'STRING':
      return 'text';
    case 'BOOLEAN':
    case 'BOOL':
    case 'BYTES':
    case 'TIME':
      return 'orderable';
    default:
      return 'unorderable';
  }
}

/** A BigQuery column as the read window uses it. */
export function windowColumn(field: BigQueryField): WindowColumn {
  return { name: field.name, type: castType(field), kind: kindOf(field) };
}

/** GoogleSQL: `@pN` named parameters, backtick names, FARM_FINGERPRINT for shards. */
export const bigQueryDialect: SqlDialect = {
  warehouse: 'BigQuery',
  quote,
  placeholder: (index) => `@p${index}`,
  cast: (placeholder, column) => `cast(${placeholder} as ${column.type})`,
  // BigQuery's own text for every type casts back exactly.
  asText: (expression) => `cast(${expression} as string)`,
  nullText: 'cast(null as string)',
  minusSeconds(expression, seconds, column) {
    switch (column.type) {
      case 'TIMESTAMP':
        return `timestamp_sub(${expression}, interval ${seconds} second)`;
      case 'DATETIME':
        return `datetime_sub(${expression}, interval ${seconds} second)`;
      case 'DATE':
        return `date_sub(${expression}, interval ${Math.ceil(seconds / 86_400)} day)`;
      default:
        return `${expression} - ${seconds}`;
    }
  },
  shard: (expression, _column, count) =>
    `mod(abs(farm_fingerprint(cast(${expression} as string))), ${count})`,
  isoText: {
    test: (expression) =>
      `regexp_contains(${expression}, '${ISO_TIMESTAMP_PATTERN}') and safe_cast(${expression} as timestamp) is not null`,
    parse: (expression) => `cast(${expression} as timestamp)`,
    column: { name: '', type: 'TIMESTAMP', kind: 'timestamp' },
  },
  castHint: (expression) => `parse_timestamp('%d/%m/%Y %H:%M:%S', ${expression})`,
};

/** The window's statement parameters as BigQuery's named parameters (`@p1` …). */
export function namedParams(values: readonly string[]): Record<string, string> {
  return Object.fromEntries(values.map((value, i) => [`p${i + 1}`, value]));
}

/** The source's columns for the window. */
export function windowSpec(
  relation: string,
  key: BigQueryField,
  cursor: BigQueryField | undefined,
  shardColumn: BigQueryField | undefined,
): WindowSpec {
  return {
    relation,
    key: windowColumn(key),
    ...(cursor === undefined ? {} : { cursor: windowColumn(cursor) }),
    ...(shardColumn === undefined ? {} : { shardColumn: windowColumn(shardColumn) }),
  };
}
