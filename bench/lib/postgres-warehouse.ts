import { startPostgres, type RunningPostgres } from '@idmerge/warehouse-sync/test/postgres';

/**
 * The benchmark's events table on a throwaway PostgreSQL server: the same 16 columns and the same
 * mix as the DuckDB table (40% anonymous-only, 10% with both IDs, 50% identified; the cursor grows
 * with the row number, with ties), with the index on (cursor, key) a real table would have.
 */
export async function postgresWarehouse(rows: number): Promise<RunningPostgres> {
  // Enough memory to sort a window without the test server's defaults holding it back.
  const server = await startPostgres({
    work_mem: '64MB',
    maintenance_work_mem: '256MB',
    shared_buffers: '256MB',
  });
  console.log(`loading ${rows.toLocaleString('en')} rows into PostgreSQL on port ${server.port}`);
  await server.sql(`
    create table events as
    select
      i as id,
      (array['Page Viewed', 'Signed Up', 'Added to Cart', 'Purchased', 'Searched'])[1 + i % 5] as event_name,
      timestamptz '2025-11-01 00:00:00+00' + (i / 4) * interval '1 second' as event_time,
      case when i % 10 < 9 then 'dev-' || (i / 7) % 2000003 end as device_id,
      case when i % 10 >= 4 then 'user-' || (i / 11) % 400009 end as user_id,
      timestamptz '2025-11-01 00:00:00+00' + (i / 4) * interval '1 second' as updated_at,
      (array['/', '/pricing', '/docs', '/blog', '/signup'])[1 + i % 5] as page,
      (array['google', 'direct', 'newsletter', 'partner'])[1 + i % 4] as utm_source,
      (array['web', 'ios', 'android'])[1 + i % 3] as platform,
      (i % 1000) / 10.0 as price,
      i % 7 = 0 as is_trial,
      'campaign-' || i % 97 as campaign,
      'DE' as country,
      (i * 7919) % 100000 as session_ms,
      'v' || i % 13 as app_version,
      'note that stays in the warehouse' as internal_note
    from generate_series(0::bigint, ${rows - 1}) i;
    create index events_cursor on events (updated_at, id);
  `);
  // As autovacuum leaves a table that has been there a while: its rows' commit status is set and its
  // statistics are current, so the sync's first scan is not the one that writes every page back.
  await server.sql('vacuum (analyze) events');
  return server;
}
