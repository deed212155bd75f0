import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

/**
 * A small warehouse for `pnpm demo`: an `events` table and a `logins` table (device → user pairs)
 * with deterministic traffic: visitors browsing anonymously, logging in (some users on several
 * devices), a shared kiosk that two users log in on, and one row with an invalid device ID.
 */
export async function buildDemoWarehouse(
  dir: string,
): Promise<{ database: string; events: number; logins: number }> {
  const database = join(dir, 'warehouse.duckdb');
  const instance = await DuckDBInstance.create(database);
  const connection = await instance.connect();
  try {
    await connection.run(`
      create table events as
      select
        v * 100 + n as event_id,
        case when n % 4 = 0 then 'Product Viewed' else 'Page Viewed' end as event_name,
        timestamp '2025-11-20 09:00:00' + to_minutes(v * 10 + n) as event_time,
        'dev-' || v as device_id,
        case when n >= 5 and v % 5 <> 0 then 'user-' || (v % 80) else null end as user_id,
        'https://shop.example.com/p/' || (n * 7 % 13) as page_url
      from range(200) a(v), range(8) b(n)`);
    await connection.run(`
      create table logins as
      select v as login_id, 'dev-' || v as device_id, 'user-' || (v % 80) as user_id,
             timestamp '2025-11-20 09:00:00' + to_minutes(v * 10 + 5) as login_time
      from range(200) a(v) where v % 5 <> 0`);
    // A kiosk two people log in on (first link wins), and a row a broken tracker wrote.
    await connection.run(`
      insert into logins values
        (1001, 'kiosk-1', 'user-1', timestamp '2025-11-21 10:00:00'),
        (1002, 'kiosk-1', 'user-2', timestamp '2025-11-21 11:00:00'),
        (1003, 'undefined', 'user-3', timestamp '2025-11-21 12:00:00')`);
    const count = async (table: string) =>
      Number((await connection.runAndReadAll(`select count(*) as n from ${table}`)).getRowObjectsJS()[0]?.n);
    return { database, events: await count('events'), logins: await count('logins') };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Writes the two sync definitions of the demo next to the warehouse; returns their paths. */
export function writeDemoDefinitions(dir: string): { events: string; logins: string } {
  const events = join(dir, 'events.yaml');
  writeFileSync(
    events,
    `name: demo-events
mode: simplified
source:
  type: duckdb
  database: warehouse.duckdb
  table: events
  cursor: event_time
  primary_key: event_id
mapping:
  type: events
  event: event_name
  time: event_time
  time_zone: UTC
  device_id: device_id
  user_id: user_id
  insert_id: event_id
  properties: { rename: { page_url: $current_url } }
page_size: 500
`,
  );
  const logins = join(dir, 'logins.yaml');
  writeFileSync(
    logins,
    `name: demo-logins
mode: simplified
source:
  type: duckdb
  database: warehouse.duckdb
  table: logins
  cursor: login_time
  primary_key: login_id
mapping:
  type: identities
  device_id: device_id
  user_id: user_id
  time: login_time
  time_zone: UTC
  insert_id: login_id
  event: { value: Logged In }
`,
  );
  return { events, logins };
}
