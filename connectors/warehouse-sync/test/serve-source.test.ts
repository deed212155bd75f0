import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { DuckDBInstance } from '@duckdb/node-api';
import { fullCollection } from '@idmerge/shared/memory';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseSyncDefinition } from '../src/definition.js';
import type { PackedPage } from '../src/worker/packed-page.js';
import { SOURCE_WORKER_ROLE, type SourceReply, type SourceRequest } from '../src/worker/protocol.js';
import { serveSource } from '../src/worker/serve-source.js';

const dir = mkdtempSync(join(tmpdir(), 'wh-serve-'));

beforeAll(async () => {
  const instance = await DuckDBInstance.create(join(dir, 'warehouse.duckdb'));
  const connection = await instance.connect();
  await connection.run(`
    create table events as
    select i as id, 'Played' as name, timestamptz '2025-11-01 00:00:00+00' + to_seconds(i) as at,
      'dev-' || i % 17 as device
    from range(3000) t(i)`);
  connection.closeSync();
  instance.closeSync();
});

const definition = parseSyncDefinition(
  [
    'name: served',
    'mode: simplified',
    'page_size: 500',
    'source: { type: duckdb, database: warehouse.duckdb, table: events, cursor: at, primary_key: id }',
    'mapping: { type: events, event: name, time: at, device_id: device, insert_id: id }',
  ].join('\n'),
);

/** The reading thread's side served on this thread, over a real message channel. */
function served() {
  const { port1: workerSide, port2: runSide } = new MessageChannel();
  /** Every page the reading side posted, held weakly: only the reading side could keep it alive. */
  const posted: Array<WeakRef<PackedPage>> = [];
  const post = workerSide.postMessage.bind(workerSide);
  workerSide.postMessage = (reply: SourceReply, transfer?: readonly ArrayBuffer[]) => {
    if ('page' in reply) posted.push(new WeakRef(reply.page));
    post(reply, transfer);
  };
  const replies: SourceReply[] = [];
  const waiters: Array<() => void> = [];
  runSide.on('message', (reply: SourceReply) => {
    replies.push(reply);
    waiters.splice(0).forEach((wake) => wake());
  });
  const serving = serveSource({ role: SOURCE_WORKER_ROLE, definition, definitionDir: dir }, workerSide);
  const send = (request: SourceRequest) => runSide.postMessage(request);
  async function until(test: () => boolean): Promise<void> {
    while (!test()) await new Promise<void>((resolve) => waiters.push(resolve));
  }
  return { posted, replies, send, until, serving, close: () => runSide.close() };
}

describe('the reading thread serving pages', () => {
  it('keeps nothing of a page it posted while it waits to post the next', async () => {
    const side = served();
    side.send({ id: 1, op: 'connect' });
    await side.until(() => side.replies.some((reply) => reply.id === 1));
    // One page ahead: the first is posted, the second is read and waits for room.
    side.send({ id: 2, op: 'pages', window: { pageSize: 500 }, ahead: 1 });
    await side.until(() => side.replies.some((reply) => 'page' in reply));
    // The page arrived in a later task than the one that posted it, so the weak reference alone
    // no longer keeps it; a full collection frees it unless the reading side still holds it.
    await new Promise((resolve) => setImmediate(resolve));
    fullCollection();
    expect(side.posted).toHaveLength(1);
    expect(side.posted[0]?.deref()).toBeUndefined();

    // The stream goes on as before: every row arrives, one page per request for more.
    const pages = () => side.replies.filter((reply) => 'page' in reply).length;
    for (let taken = 1; !side.replies.some((reply) => 'done' in reply); taken++) {
      side.send({ id: 2, op: 'more' });
      await side.until(() => pages() > taken || side.replies.some((reply) => 'done' in reply));
    }
    const rows = side.replies.reduce((sum, reply) => sum + ('page' in reply ? reply.page.rows : 0), 0);
    expect(rows).toBe(3000);
    side.send({ id: 3, op: 'close' });
    await side.serving;
    side.close();
  });
});
