import type { Connection, ConnectionOptions, RowStatement } from 'snowflake-sdk';
import { z } from 'zod';
import { loadSnowflakeSdk } from './snowflake-sdk.js';
import type { SnowflakeSourceOptions } from './snowflake-settings.js';
import type { SnowflakeColumn, Statement } from './snowflake-sql.js';

const driverErrorSchema = z.object({
  message: z.string(),
  code: z.union([z.string(), z.number()]).optional(),
  sqlState: z.string().optional(),
});

/** The driver's message with Snowflake's error code and SQL state, e.g. `… (code 002003, SQL state 42S02)`. */
export function describeDriverError(error: unknown): string {
  const parsed = driverErrorSchema.safeParse(error);
  if (!parsed.success) return error instanceof Error ? error.message : String(error);
  const { message, code, sqlState } = parsed.data;
  const details = [
    code === undefined ? undefined : `code ${code}`,
    sqlState === undefined ? undefined : `SQL state ${sqlState}`,
  ].filter((detail) => detail !== undefined);
  return details.length > 0 ? `${message.trim()} (${details.join(', ')})` : message.trim();
}

export class SnowflakeLoginError extends Error {
  constructor(options: SnowflakeSourceOptions, cause: unknown) {
    super(
      `Snowflake login failed for user "${options.user}" on account "${options.account}": ${describeDriverError(cause)}`,
    );
    this.name = 'SnowflakeLoginError';
  }
}

export class SnowflakeQueryError extends Error {
  constructor(doing: string, cause: unknown) {
    super(`Snowflake query failed while ${doing}: ${describeDriverError(cause)}`);
    this.name = 'SnowflakeQueryError';
  }
}

function connectionOptions(options: SnowflakeSourceOptions): ConnectionOptions {
  const auth: ConnectionOptions =
    options.auth.type === 'password'
      ? { password: options.auth.password.reveal() }
      : {
          authenticator: 'SNOWFLAKE_JWT',
          privateKey: options.auth.privateKey.reveal(),
          privateKeyPass: options.auth.passphrase?.reveal(),
        };
  return {
    account: options.account,
    username: options.user,
    accessUrl: options.accessUrl,
    warehouse: options.warehouse,
    database: options.database,
    schema: options.schema,
    role: options.role,
    // Numbers are fetched as text (exact); without this a null number would arrive as "NULL".
    representNullAsStringNull: false,
    // Keeps the driver from first converting integers to JS numbers, which for values past 2^53
    // logs a warning and reports a "precision loss" event to the account.
    jsTreatIntegerAsBigInt: true,
    ...auth,
  };
}

/** Signs in; a refused login throws with Snowflake's reason, never with the credential. */
export async function openConnection(options: SnowflakeSourceOptions): Promise<Connection> {
  const sdk = await loadSnowflakeSdk();
  let connection: Connection;
  try {
    connection = sdk.createConnection(connectionOptions(options));
  } catch (error) {
    throw new SnowflakeLoginError(options, error);
  }
  await new Promise<void>((resolve, reject) => {
    connection.connect((error) => (error ? reject(new SnowflakeLoginError(options, error)) : resolve()));
  });
  return connection;
}

/** Logs the session out. */
export function closeConnection(connection: Connection): Promise<void> {
  return new Promise((resolve, reject) => {
    connection.destroy((error) => (error ? reject(new Error(describeDriverError(error))) : resolve()));
  });
}

const columnSchema = z.object({
  name: z.string(),
  type: z.string(),
  precision: z
    .number()
    .nullish()
    .transform((value) => value ?? null),
  scale: z
    .number()
    .nullish()
    .transform((value) => value ?? null),
});

const rowSchema = z.record(z.string(), z.unknown());

export interface ExecutedStatement {
  columns: SnowflakeColumn[];
  /** The result's rows as the driver gives them, streamed chunk by chunk. */
  rows(): AsyncGenerator<Record<string, unknown>>;
}

/**
 * Runs a statement and hands back its columns and a stream of its rows. Numbers arrive as text
 * (see `rowFromDriver`); `describeOnly` compiles the statement without running it.
 */
export async function execute(
  connection: Connection,
  statement: Statement,
  doing: string,
  describeOnly = false,
): Promise<ExecutedStatement> {
  const executed = await new Promise<RowStatement>((resolve, reject) => {
    connection.execute({
      sqlText: statement.sqlText,
      binds: statement.binds,
      describeOnly,
      streamResult: true,
      fetchAsString: ['Number'],
      complete: (error, result) =>
        error ? reject(new SnowflakeQueryError(doing, error)) : resolve(result as RowStatement),
    });
  });
  const columns = (executed.getColumns() ?? []).map((column) =>
    columnSchema.parse({
      name: column.getName(),
      type: column.getType(),
      precision: column.getPrecision(),
      scale: column.getScale(),
    }),
  );
  return {
    columns,
    async *rows() {
      try {
        for await (const row of executed.streamRows()) yield rowSchema.parse(row);
      } catch (error) {
        throw new SnowflakeQueryError(doing, error);
      }
    },
  };
}
