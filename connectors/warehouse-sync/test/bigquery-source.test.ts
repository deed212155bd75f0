import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OAuth2Client } from 'google-auth-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeadLetterList, createSender, startSandbox } from '@idmerge/shared';
import { parseSyncDefinition } from '../src/definition.js';
import { runSync } from '../src/run.js';
import {
  createBigQuerySource,
  bigQueryOptionsFrom,
  type BigQuerySourceOptions,
} from '../src/sources/bigquery.js';
import { createSource } from '../src/sources/create.js';
import type { WarehouseSource } from '../src/sources/source.js';
import { StateStore } from '../src/state.js';
import { startFakeBigQuery, type FakeBigQuery } from './fakes/bigquery-server.js';
import { guardLoopback } from './loopback-guard.js';
import { SUITE_ROWS, sourceSuite } from './source-suite.js';

// No metadata-server probing, and every socket checked: only loopback addresses may be reached.
process.env.METADATA_SERVER_DETECTION = 'none';
const { reached, refused, restore } = guardLoopback();

const PROJECT = 'acme-analytics';
const TOKEN = 'ya29.test-access-token';

/** An auth client that already holds an access token: it never asks Google for one. */
function authClient(token = TOKEN): OAuth2Client {
  const client = new OAuth2Client();
  client.setCredentials({ access_token: token, expiry_date: Date.now() + 3_600_000 });
  return client;
}

let fake: FakeBigQuery;

beforeAll(async () => {
  const values = SUITE_ROWS.map(
    (r) => `(${r.event_id}, timestamptz '${r.updated_at}+00', '${r.user_id}')`,
  ).join(', ');
  fake = await startFakeBigQuery({
    project: PROJECT,
    token: TOKEN,
    setup: [
      'create table events (event_id bigint, updated_at timestamptz, user_id varchar)',
      `insert into events values ${values}`,
      // 2,500 rows for paging through page tokens; one value past 2^53.
      'create table big (id bigint, seen_at timestamptz, name varchar, score double, active boolean)',
      "insert into big select i, timestamptz '2025-11-22 00:00:00+00' + to_seconds(i), 'n' || i, i / 4, i % 2 = 0 from range(1, 2501) t(i)",
      "insert into big values (9007199254740993, timestamptz '2025-11-23 00:00:00+00', null, null, null)",
    ],
    pendingPolls: (query) => (query.includes('/* slow */') ? 3 : 0),
  });
});

afterAll(async () => {
  restore();
  await fake?.close();
});

function options(extra: Partial<BigQuerySourceOptions> = {}): BigQuerySourceOptions {
  return {
    projectId: PROJECT,
    apiEndpoint: fake.url,
    authClient: authClient(),
    table: 'events',
    cursor: 'updated_at',
    primaryKey: 'event_id',
    ...extra,
  };
}

async function readAll(source: WarehouseSource, pageSize: number) {
  await source.connect();
  try {
    const pages = [];
    for await (const page of source.pages({ pageSize })) pages.push(page);
    return pages;
  } finally {
    await source.close();
  }
}

sourceSuite('BigQuery (fake server)', async () => createBigQuerySource(options()));

describe('BigQuery source against the fake', () => {
  it('reads a large result page by page through page tokens, with exact values', async () => {
    const before = fake.requests.length;
    const pages = await readAll(
      createBigQuerySource(options({ table: 'big', cursor: 'seen_at', primaryKey: 'id' })),
      1000,
    );
    expect(pages.map((p) => p.rows.length)).toEqual([1000, 1000, 501]);
    const tokens = fake.requests.slice(before).filter((r) => r.query.pageToken !== undefined);
    expect(tokens).toHaveLength(2);
    expect(tokens.every((r) => r.query.maxResults === '1000')).toBe(true);
    expect(pages[0]?.rows[0]).toEqual({
      id: 1,
      seen_at: new Date('2025-11-22T00:00:01Z'),
      name: 'n1',
      score: 0.25,
      active: false,
    });
    expect(pages[2]?.rows.at(-1)).toEqual({
      id: 9007199254740993n,
      seen_at: new Date('2025-11-23T00:00:00Z'),
      name: null,
      score: null,
      active: null,
    });
    expect(pages[2]?.last).toEqual({ cursor: '2025-11-23 00:00:00+00', key: '9007199254740993' });
  });

  it('polls a job that is still running (jobComplete: false) until its rows come', async () => {
    const before = fake.requests.length;
    const pages = await readAll(
      createBigQuerySource(options({ table: undefined, query: 'select * from events /* slow */' })),
      100,
    );
    expect(pages.flatMap((p) => p.rows.map((r) => r.event_id))).toEqual(SUITE_ROWS.map((r) => r.event_id));
    const polls = fake.requests.slice(before).filter((r) => r.method === 'GET');
    expect(polls.length).toBeGreaterThanOrEqual(3);
  });

  it('sends named parameters and GoogleSQL with backtick names', async () => {
    const before = fake.requests.length;
    const source = createBigQuerySource(options());
    await source.connect();
    try {
      for await (const _page of source.pages({
        pageSize: 100,
        after: '2025-11-22 08:02:00+00',
        lookbackSeconds: 60,
      })) {
        // read it all
      }
    } finally {
      await source.close();
    }
    const windowRequest = fake.requests
      .slice(before)
      .map((r) => r.body as { query?: string; queryParameters?: Array<{ name: string }> } | undefined)
      .find((b) => b?.query?.includes('order by'));
    expect(windowRequest?.query).toContain(
      '`updated_at` >= timestamp_sub(cast(@p1 as TIMESTAMP), interval 60 second)',
    );
    expect(windowRequest?.queryParameters?.map((p) => p.name)).toEqual(['p1']);
  });

  it('a query error names what went wrong', async () => {
    const source = createBigQuerySource(options({ table: 'missing_events' }));
    await expect(source.connect()).rejects.toThrow(
      /BigQuery query failed while describing the query: .*missing_events.*\(HTTP 400, invalidQuery\)/,
    );
  });

  it('refused credentials fail at connect with the API message and without the token', async () => {
    const source = createBigQuerySource(options({ authClient: authClient('ya29.wrong-token') }));
    const error = await source.connect().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/invalid authentication credentials.*HTTP 401/);
    expect(error?.message).not.toContain('ya29');
  });
});

describe('BigQuery settings', () => {
  const source = (extra: Record<string, unknown> = {}) =>
    ({ type: 'bigquery', table: 'events', primary_key: 'event_id', ...extra }) as Parameters<
      typeof bigQueryOptionsFrom
    >[0];

  it('takes the project from the definition, else BIGQUERY_PROJECT, else GOOGLE_CLOUD_PROJECT', () => {
    expect(bigQueryOptionsFrom(source({ project: 'p1' }), { BIGQUERY_PROJECT: 'p2' }).projectId).toBe('p1');
    expect(
      bigQueryOptionsFrom(source(), { BIGQUERY_PROJECT: 'p2', GOOGLE_CLOUD_PROJECT: 'p3' }).projectId,
    ).toBe('p2');
    expect(bigQueryOptionsFrom(source(), { GOOGLE_CLOUD_PROJECT: 'p3' }).projectId).toBe('p3');
  });

  it('refuses a missing project, naming source.project and BIGQUERY_PROJECT', () => {
    expect(() => bigQueryOptionsFrom(source(), {})).toThrow(
      /bigquery source: the project is missing; write source.project .* set BIGQUERY_PROJECT/,
    );
  });

  it('takes the key file from GOOGLE_APPLICATION_CREDENTIALS, never from the definition', () => {
    expect(
      bigQueryOptionsFrom(source({ project: 'p' }), { GOOGLE_APPLICATION_CREDENTIALS: '/keys/sa.json' })
        .keyFilename,
    ).toBe('/keys/sa.json');
    expect(() =>
      parseSyncDefinition(
        'name: x\nmode: simplified\nsource: { type: bigquery, table: t, primary_key: id, key_file: k.json }\n' +
          'mapping: { type: events, event: e, time: t, device_id: d }\n',
      ),
    ).toThrow(/source: Unrecognized key: "key_file"/);
  });

  it('reads the example in docs/warehouse-sync.md', () => {
    const docs = readFileSync(new URL('../../../docs/warehouse-sync.md', import.meta.url), 'utf8');
    const example = /## BigQuery[\s\S]*?```yaml\n([\s\S]*?)```/.exec(docs)?.[1] ?? '';
    const definition = parseSyncDefinition(example, 'docs/warehouse-sync.md');
    if (definition.source.type !== 'bigquery') throw new Error('the example is not a BigQuery source');
    expect(bigQueryOptionsFrom(definition.source, {})).toMatchObject({
      projectId: 'acme-analytics',
      location: 'EU',
      cursor: 'ingested_at',
      primaryKey: 'event_id',
    });
  });

  it('allows plain http only to this machine', () => {
    expect(() =>
      bigQueryOptionsFrom(source({ project: 'p', api_endpoint: 'http://bigquery.example.com' }), {}),
    ).toThrow(/plain http is allowed only on this machine/);
    expect(
      bigQueryOptionsFrom(source({ project: 'p', api_endpoint: 'http://127.0.0.1:9050/' }), {}).apiEndpoint,
    ).toBe('http://127.0.0.1:9050');
  });
});

describe('a BigQuery sync definition', () => {
  it('syncs through createSource into the sandbox, and a second run reads only the bound again', async () => {
    const sandbox = await startSandbox({ port: 0, host: '127.0.0.1', mode: 'simplified', projectToken: 't' });
    const dir = mkdtempSync(join(tmpdir(), 'bq-sync-'));
    const file = join(dir, 'events.yaml');
    writeFileSync(
      file,
      [
        'name: bq-events',
        'mode: simplified',
        'source:',
        '  type: bigquery',
        '  table: events',
        '  cursor: updated_at',
        '  primary_key: event_id',
        `  api_endpoint: ${fake.url}`,
        'mapping:',
        '  type: events',
        '  event: { value: Synced }',
        '  time: updated_at',
        '  user_id: user_id',
        '  insert_id: event_id',
      ].join('\n'),
    );
    const definition = parseSyncDefinition(readFileSync(file, 'utf8'));
    const run = async () => {
      // The definition and the environment give everything but the credentials, which tests inject.
      const source = createBigQuerySource({
        ...bigQueryOptionsFrom(definition.source as Parameters<typeof bigQueryOptionsFrom>[0], {
          BIGQUERY_PROJECT: PROJECT,
        }),
        authClient: authClient(),
      });
      await source.connect();
      const sender = createSender(
        { region: 'us', apiHost: sandbox.url, auth: { kind: 'token', token: 't' }, secrets: [] },
        { deadLetter: createDeadLetterList() },
      );
      try {
        return await runSync(definition, source, sender, new StateStore(join(dir, 'state')));
      } finally {
        await sender.flush();
        await source.close();
      }
    };
    // createSource sends a bigquery definition to the BigQuery settings (here: no project anywhere).
    expect(() => createSource(definition, dir, {})).toThrow(/set BIGQUERY_PROJECT/);
    try {
      expect((await run()).rowsRead).toBe(10);
      const stats = (await (await fetch(`${sandbox.url}/_sandbox/stats`)).json()) as { accepted: number };
      expect(stats.accepted).toBe(10);
      // The inclusive lower bound re-reads the bound's own row; its $insert_id deduplicates it.
      expect((await run()).rowsRead).toBe(1);
      const again = (await (await fetch(`${sandbox.url}/_sandbox/stats`)).json()) as { accepted: number };
      expect(again.accepted).toBe(10);
    } finally {
      await sandbox.close();
    }
  });

  it('reached nothing but loopback addresses', () => {
    expect(reached.length).toBeGreaterThan(0);
    expect(refused).toEqual([]);
  });
});
