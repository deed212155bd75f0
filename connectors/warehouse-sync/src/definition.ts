import { readFile } from 'node:fs/promises';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import {
  columnMappingSchema,
  type ColumnMapping,
  type LookupTableMapping,
  isKnownTimeZone,
  lookupTableMappingSchema,
} from '@idmerge/shared';

const identifier = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a plain column name (letters, digits, _)');

const queryOrTable = {
  /** A SELECT whose rows are synced; or `table`. */
  query: z.string().min(1).optional(),
  table: z.string().min(1).optional(),
  /** Column that grows with new or changed rows; the sync is incremental on it. */
  cursor: identifier.optional(),
  /**
   * Rows whose cursor is NULL belong to no window; every run reads them after the window and
   * dead-letters them with the reason (default), or delivers them (`$insert_id` deduplicates the
   * runs that send them again).
   */
  null_cursor: z.enum(['dead_letter', 'deliver']).default('dead_letter'),
  /** Column unique per row: the tie-breaker for paging and the row key in errors. */
  primary_key: identifier,
};

const duckdbSource = z.strictObject({
  type: z.literal('duckdb'),
  /** A database file, or `:memory:` with files read by the query. */
  database: z.string().min(1).default(':memory:'),
  /** DuckDB's memory cap, e.g. 256MB or 2GB; sorts larger than this spill to a temporary folder. */
  memory_limit: z
    .string()
    .regex(/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, 'must be a size such as 256MB or 2GB')
    .optional(),
  ...queryOrTable,
});

/**
 * Snowflake. Connection settings may be written here or come from the environment
 * (SNOWFLAKE_ACCOUNT, SNOWFLAKE_USER, SNOWFLAKE_WAREHOUSE, SNOWFLAKE_DATABASE, SNOWFLAKE_SCHEMA,
 * SNOWFLAKE_ROLE); the secret never does: SNOWFLAKE_PASSWORD or SNOWFLAKE_PASSWORD_FILE, or a key
 * pair through SNOWFLAKE_PRIVATE_KEY_FILE (+ SNOWFLAKE_PRIVATE_KEY_PASSPHRASE).
 */
const snowflakeSource = z.strictObject({
  type: z.literal('snowflake'),
  account: z.string().min(1).optional(),
  user: z.string().min(1).optional(),
  warehouse: z.string().min(1).optional(),
  database: z.string().min(1).optional(),
  schema: z.string().min(1).optional(),
  role: z.string().min(1).optional(),
  /** Full URL of the account's endpoint, for private links (default https://<account>.snowflakecomputing.com). */
  access_url: z.url().optional(),
  ...queryOrTable,
});

/**
 * BigQuery. The project may be written here or come from BIGQUERY_PROJECT (or
 * GOOGLE_CLOUD_PROJECT); credentials come from a service-account key file named by
 * GOOGLE_APPLICATION_CREDENTIALS, never from the definition.
 */
const bigquerySource = z.strictObject({
  type: z.literal('bigquery'),
  project: z.string().min(1).optional(),
  /** Where the query's datasets live, e.g. US or EU. */
  location: z.string().min(1).optional(),
  /** Root URL of the BigQuery API, for private endpoints (default https://bigquery.googleapis.com). */
  api_endpoint: z.url().optional(),
  ...queryOrTable,
});

/** A duration like `30s`, `15m`, `2h`, `1d`, in seconds. */
const duration = z
  .string()
  .regex(/^\d+\s*(s|m|h|d)$/, 'must be a duration such as 30s, 15m, 2h or 1d')
  .transform((text) => {
    const value = Number.parseInt(text, 10);
    const unit = text.trim().slice(-1);
    return value * { s: 1, m: 60, h: 3600, d: 86400 }[unit as 's' | 'm' | 'h' | 'd'];
  });

/** libpq's `sslmode` values, with libpq's meaning (see docs/warehouse-sync.md). */
export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;

/**
 * The connection keys PostgreSQL and Redshift share. Each may come from libpq's variable instead
 * (PGHOST, PGPORT, PGDATABASE, PGUSER, PGSSLMODE, PGSSLROOTCERT); the password never comes from
 * the definition: PGPASSWORD or PGPASSWORD_FILE.
 */
const postgresConnection = {
  host: z.string().min(1).optional(),
  port: z.number().int().min(1).max(65_535).optional(),
  database: z.string().min(1).optional(),
  user: z.string().min(1).optional(),
  /** The schema unqualified names in the query or table resolve in (the session's search_path). */
  schema: z.string().min(1).optional(),
  ssl: z.enum(SSL_MODES).optional(),
  /** A PEM file of the certificate authorities that verify the server (verify-ca, verify-full). */
  ssl_root_cert: z.string().min(1).optional(),
  /** Longest time one statement (one page fetch) may run; default 15m. */
  statement_timeout: duration.optional(),
  ...queryOrTable,
};

const postgresSource = z.strictObject({ type: z.literal('postgres'), ...postgresConnection });
const redshiftSource = z.strictObject({ type: z.literal('redshift'), ...postgresConnection });

const sourceSchema = z
  .discriminatedUnion('type', [duckdbSource, snowflakeSource, bigquerySource, postgresSource, redshiftSource])
  .refine((s) => (s.query === undefined) !== (s.table === undefined), {
    message: 'give exactly one of query or table',
    path: ['query'],
  });

export const syncDefinitionSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-_]*$/i, 'must be letters, digits, - and _ (it names the state folder)'),
    mode: z.enum(['simplified', 'original']),
    source: sourceSchema,
    /** Events, identities, profiles, groups (row by row), or a lookup table (the whole result). */
    mapping: z.discriminatedUnion('type', [...columnMappingSchema.options, lookupTableMappingSchema]),
    /** Cron expression for `idmerge schedule`. */
    schedule: z.string().min(1).optional(),
    /** How far back each incremental run re-reads, for rows committed late (in seconds after parsing). */
    lookback: duration.default(0),
    /** Rows per page. */
    page_size: z.number().int().min(1).max(1_000_000).default(10_000),
    /** Where run state lives (default .idmerge/state/<name>). */
    state_dir: z.string().min(1).optional(),
    /**
     * Profiles and groups: a key synced before that the source no longer returns gets `$delete`
     * (see deletes.ts and docs/warehouse-sync.md).
     */
    delete_missing: z.boolean().default(false),
    /**
     * Most deletes one run may send: a count, or a percentage of the keys synced before ("5%").
     * Above it the run stops before sending anything. Default with delete_missing: DEFAULT_MAX_DELETES.
     */
    max_deletes: z
      .union([
        z.number().int().min(0),
        z
          .string()
          .regex(/^\d+(\.\d+)?%$/, 'must be a count such as 500 or a percentage such as "5%"')
          .refine((text) => Number.parseFloat(text) <= 100, 'a percentage is at most 100%'),
      ])
      .optional(),
  })
  .superRefine((definition, context) => {
    if (definition.mapping.type === 'lookup_table') {
      // The whole result replaces the table on every run: nothing is incremental.
      if (definition.source.cursor !== undefined)
        context.addIssue({
          code: 'custom',
          path: ['source', 'cursor'],
          message: 'a lookup table is replaced whole by every run, so it reads every row: remove the cursor',
        });
      if (definition.mapping.key !== definition.source.primary_key)
        context.addIssue({
          code: 'custom',
          path: ['mapping', 'key'],
          message: `must be the source's primary_key ("${definition.source.primary_key}"): the rows are read in key order, so rows sharing a key are found side by side`,
        });
    }
    if (
      definition.delete_missing &&
      definition.mapping.type !== 'profiles' &&
      definition.mapping.type !== 'groups'
    )
      context.addIssue({
        code: 'custom',
        path: ['delete_missing'],
        message:
          `deletes are for mapping.type profiles or groups, not ${definition.mapping.type} ` +
          '(an event or identity link cannot be deleted through ingestion); remove delete_missing',
      });
    if (definition.delete_missing && definition.source.cursor !== undefined)
      context.addIssue({
        code: 'custom',
        path: ['delete_missing'],
        message:
          `delete_missing needs every run to read the whole result, and source.cursor ` +
          `(${definition.source.cursor}) makes runs read only the rows changed since the last one; remove ` +
          'source.cursor (profiles and groups are sent only when changed, so a whole read sends no more)',
      });
    if (definition.max_deletes !== undefined && !definition.delete_missing)
      context.addIssue({
        code: 'custom',
        path: ['max_deletes'],
        message: 'max_deletes caps the deletes of delete_missing: true, which is not set',
      });
    const zone = 'time_zone' in definition.mapping ? definition.mapping.time_zone : undefined;
    if (zone !== undefined && !isKnownTimeZone(zone)) {
      context.addIssue({
        code: 'custom',
        path: ['mapping', 'time_zone'],
        message: `unknown time zone "${zone}"; use an IANA name such as UTC`,
      });
    }
  });

export type SyncDefinition = z.output<typeof syncDefinitionSchema>;
/** A definition that maps rows one by one into payloads (every mapping type but lookup_table). */
export type RowSyncDefinition = SyncDefinition & { mapping: ColumnMapping };
/** A definition that replaces a lookup table with the whole result. */
export type LookupSyncDefinition = SyncDefinition & { mapping: LookupTableMapping };

export function isLookupSync(definition: SyncDefinition): definition is LookupSyncDefinition {
  return definition.mapping.type === 'lookup_table';
}

export class DefinitionError extends Error {
  constructor(file: string, problems: string[]) {
    super(`${file}: ${problems.length === 1 ? problems[0] : `\n  ${problems.join('\n  ')}`}`);
    this.name = 'DefinitionError';
  }
}

/** Parses a definition; errors name each key path and what is expected there. */
export function parseSyncDefinition(text: string, file = 'sync definition'): SyncDefinition {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    if (error instanceof YAMLParseError)
      throw new DefinitionError(file, [`not valid YAML: ${error.message}`]);
    throw error;
  }
  const parsed = syncDefinitionSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new DefinitionError(
    file,
    parsed.error.issues.map(
      (issue) => `${issue.path.length ? issue.path.join('.') : '(top level)'}: ${issue.message}`,
    ),
  );
}

export async function loadSyncDefinition(file: string): Promise<SyncDefinition> {
  return parseSyncDefinition(await readFile(file, 'utf8'), file);
}
