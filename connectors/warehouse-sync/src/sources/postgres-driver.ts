/**
 * The PostgreSQL driver (`pg`, `pg-cursor`), loaded on first use: every sync program imports the
 * sources, and a sync that reads DuckDB or Snowflake must not carry the driver's memory in each of
 * its threads (figure: docs/benchmarks.md).
 */
const importDriver = async () => {
  const [pg, cursor] = await Promise.all([import('pg'), import('pg-cursor')]);
  return { pg: pg.default, Cursor: cursor.default };
};

export type PostgresDriver = Awaited<ReturnType<typeof importDriver>>;

let loading: Promise<PostgresDriver> | undefined;
let loaded: PostgresDriver | undefined;

export function loadPostgresDriver(): Promise<PostgresDriver> {
  loading ??= importDriver().then((driver) => (loaded = driver));
  return loading;
}

/**
 * The driver, once loadPostgresDriver has loaded it. Type parsers call this: they run only on the
 * answers of a client, and every client is made from the loaded driver.
 */
export function loadedPostgresDriver(): PostgresDriver {
  if (loaded === undefined) throw new Error('the PostgreSQL driver is used before it was loaded');
  return loaded;
}
