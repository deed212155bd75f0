import { Readable } from 'node:stream';
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { parseLookupTable } from './lookup-tables.js';
import { startSandbox, type RunningSandbox, type SandboxOptions } from './server.js';

const SA = { username: 'sa', secret: 'shh', projectId: '7' };
const AUTH = `Basic ${Buffer.from('sa:shh').toString('base64')}`;
const running: RunningSandbox[] = [];

async function start(options: Partial<SandboxOptions> = {}): Promise<RunningSandbox> {
  const sandbox = await startSandbox({ port: 0, mode: 'simplified', serviceAccount: SA, ...options });
  running.push(sandbox);
  return sandbox;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function put(
  sandbox: RunningSandbox,
  path: string,
  body: string | Buffer,
  headers: Record<string, string> = { Authorization: AUTH },
) {
  const response = await fetch(sandbox.url + path, {
    method: 'PUT',
    body: typeof body === 'string' ? body : new Uint8Array(body),
    headers: { 'Content-Type': 'text/csv', ...headers },
  });
  return {
    status: response.status,
    headers: response.headers,
    json: (await response.json()) as Record<string, unknown>,
  };
}

const inspect = async (sandbox: RunningSandbox, id: string) => {
  const response = await fetch(`${sandbox.url}/_sandbox/lookup-tables/${id}`);
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
};

describe('parseLookupTable (Mixpanel validation)', () => {
  it('keeps an empty quoted field as an empty string and an empty unquoted one as no value', () => {
    const parsed = parseLookupTable('id,a,b\r\nk1,,""\r\n"k,2","x\r\ny","q""q"\r\n');
    expect(parsed).toEqual({
      ok: true,
      header: ['id', 'a', 'b'],
      rows: [
        ['k1', null, ''],
        ['k,2', 'x\r\ny', 'q"q'],
      ],
    });
  });
  it('names repeated keys, wrong field counts and empty keys by data row index, at most 10', () => {
    const parsed = parseLookupTable('id,a\nk,1\nk,2\nj\n,3\n');
    expect(parsed).toEqual({
      ok: false,
      failed: [
        { index: 1, message: 'invalid row: row indexes 0 and 1 have the same primary key' },
        { index: 2, message: 'invalid row: wrong number of fields' },
        { index: 3, message: 'invalid row: the primary key (first column) is empty' },
      ],
    });
    const many = parseLookupTable(`id\n${Array.from({ length: 30 }, () => 'same').join('\n')}\n`);
    expect(many.ok === false && many.failed.length).toBe(10);
  });
  it('refuses a header with a repeated or empty name, and text that is not CSV', () => {
    expect(parseLookupTable('id,a,a\nk,1,2\n')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/"a" appears twice/),
    });
    expect(parseLookupTable('id,\nk,1\n')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/no name/),
    });
    expect(parseLookupTable('id,a\nk,"open\n')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/not valid CSV/),
    });
  });
});

describe('PUT /lookup-tables/{id}', () => {
  it('replaces the table whole and shows it at /_sandbox/lookup-tables/{id}', async () => {
    const sandbox = await start();
    const first = await put(sandbox, '/lookup-tables/t1?project_id=7', 'id,name\na,Alpha\nb,\n');
    expect(first).toMatchObject({ status: 200, json: { code: 200, status: 'OK' } });
    const second = await put(sandbox, '/lookup-tables/t1?project_id=7', gzipSync('id,name\nc,Gamma\n'), {
      Authorization: AUTH,
      'Content-Encoding': 'gzip',
    });
    expect(second.status).toBe(200);
    expect(await inspect(sandbox, 't1')).toMatchObject({
      status: 200,
      json: { id: 't1', header: ['id', 'name'], rows: [['c', 'Gamma']], replaces: 2 },
    });
    const list = (await (await fetch(`${sandbox.url}/_sandbox/lookup-tables`)).json()) as Record<
      string,
      unknown
    >;
    expect(list).toMatchObject({ t1: { columns: 2, rows: 1, replaces: 2 } });
    expect((await inspect(sandbox, 'other')).status).toBe(404);
  });

  it('keeps the old table when the new one fails validation, answering as Mixpanel does', async () => {
    const sandbox = await start();
    await put(sandbox, '/lookup-tables/t1?project_id=7', 'id,name\na,Alpha\n');
    const refused = await put(sandbox, '/lookup-tables/t1?project_id=7', 'id,name\na,1\na,2\n');
    expect(refused).toMatchObject({
      status: 400,
      json: {
        error: 'some data points in the request failed validation',
        failed_records: [{ index: 1, message: 'invalid row: row indexes 0 and 1 have the same primary key' }],
        status: 0,
      },
    });
    expect((await inspect(sandbox, 't1')).json).toMatchObject({ rows: [['a', 'Alpha']], replaces: 1 });
  });

  it('takes only the service account with its project_id', async () => {
    const sandbox = await start({ projectToken: 'tok', apiSecret: 'sec' });
    const basic = (user: string) => ({ Authorization: `Basic ${Buffer.from(user).toString('base64')}` });
    expect((await put(sandbox, '/lookup-tables/t?project_id=7', 'id\na\n', {})).status).toBe(401);
    expect((await put(sandbox, '/lookup-tables/t?project_id=7', 'id\na\n', basic('tok:'))).status).toBe(401);
    expect((await put(sandbox, '/lookup-tables/t?project_id=7', 'id\na\n', basic('sec:'))).status).toBe(401);
    expect((await put(sandbox, '/lookup-tables/t?project_id=8', 'id\na\n')).status).toBe(401);
    expect((await put(sandbox, '/lookup-tables/t', 'id\na\n')).status).toBe(401);
    const ok = await put(sandbox, '/lookup-tables/t?project_id=7', 'id\na\n');
    expect(ok.status).toBe(200);
  });

  it('answers 413 above 100 MB uncompressed, reading the body without keeping it', async () => {
    const sandbox = await start();
    const url = new URL(`${sandbox.url}/lookup-tables/big?project_id=7`);
    const chunk = Buffer.alloc(1 << 20, 'x');
    let sent = 0;
    const body = new Readable({
      read() {
        if (sent >= 101) return this.push(null);
        sent++;
        this.push(sent === 1 ? Buffer.concat([Buffer.from('id\n'), chunk]) : chunk);
      },
    });
    // Chunked, no Content-Length: the limit holds while the body arrives.
    const status = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        url,
        { method: 'PUT', headers: { Authorization: AUTH, 'Content-Type': 'text/csv' } },
        (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      body.pipe(req);
    });
    expect(status.status).toBe(413);
    expect(JSON.parse(status.text)).toMatchObject({ code: 413, error: expect.stringMatching(/100MB/) });
    expect((await inspect(sandbox, 'big')).status).toBe(404);
  }, 60_000);

  it('answers 429 past the replaces a rolling day allows; reset forgets tables and the quota', async () => {
    const sandbox = await start({ lookupTableReplacesPerDay: 2 });
    expect((await put(sandbox, '/lookup-tables/t?project_id=7', 'id\na\n')).status).toBe(200);
    expect((await put(sandbox, '/lookup-tables/u?project_id=7', 'id\nb\n')).status).toBe(200);
    const third = await put(sandbox, '/lookup-tables/t?project_id=7', 'id\nc\n');
    expect(third).toMatchObject({ status: 429, json: { code: 429, status: 'Too Many Requests' } });
    expect((await inspect(sandbox, 't')).json).toMatchObject({ rows: [['a']] });
    const reset = await fetch(`${sandbox.url}/_sandbox/reset`, {
      method: 'POST',
      headers: { Authorization: AUTH },
    });
    expect(reset.status).toBe(200);
    expect((await inspect(sandbox, 't')).status).toBe(404);
    expect((await put(sandbox, '/lookup-tables/t?project_id=7', 'id\nd\n')).status).toBe(200);
  });

  it('injects faults like the other ingestion endpoints (429 with Retry-After, then through)', async () => {
    // Seed 28: the first roll is under 0.5 (a 429), the next ones over it.
    const sandbox = await start({ faults: '429=0.5', seed: 28, retryAfterSeconds: 3 });
    const limited = await put(sandbox, '/lookup-tables/t?project_id=7', 'id\na\n');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('3');
    expect((await put(sandbox, '/lookup-tables/t?project_id=7', 'id\na\n')).status).toBe(200);
  });

  it('answers other methods with 405 and a path without an ID with 404', async () => {
    const sandbox = await start();
    expect((await fetch(`${sandbox.url}/lookup-tables/t`, { method: 'POST', body: 'x' })).status).toBe(405);
    expect((await fetch(`${sandbox.url}/lookup-tables`, { method: 'PUT', body: 'x' })).status).toBe(404);
    expect((await fetch(`${sandbox.url}/lookup-tables/a/b`, { method: 'PUT', body: 'x' })).status).toBe(404);
  });
});
