import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import type { MappedPage } from '../src/map-page.js';
import { packPage, transferOf, unpackPage, type PackedPage } from '../src/worker/packed-page.js';

const event = (n: number, extra = '') => JSON.stringify({ event: 'Played', properties: { n, extra } });

const page: MappedPage = {
  rows: [
    { kind: 'send', key: 1, events: [event(1)], payloads: [] },
    {
      kind: 'invalid',
      row: { id: 2, at: null },
      reason: 'row id=2: at: bad',
      tally: 'at: bad_time',
      field: 'at',
    },
    { kind: 'send', key: 3n, events: [event(3, 'zwei Ereignisse ü'), event(4, '😀')], payloads: [] },
    { kind: 'send', key: 'k-5', events: [], payloads: [] },
    {
      kind: 'send',
      key: 6,
      events: [],
      payloads: [{ endpoint: 'engage', body: { $distinct_id: 'u6', $set: { plan: 'pro' } } }],
      hash: 'h6',
    },
    { kind: 'send', key: new Date(Date.UTC(2025, 10, 1)), events: [event(7, '')], payloads: [] },
  ],
  last: { cursor: '2025-11-01 00:00:07+00', key: '7' },
  nullCursor: 6,
  duplicateKeys: 2,
};

/** What the run's thread receives: the packed page posted through a real message port, as the worker posts it. */
async function throughPort(packed: PackedPage): Promise<PackedPage> {
  const { port1, port2 } = new MessageChannel();
  const received = new Promise<PackedPage>((resolve) => port2.once('message', resolve));
  port1.postMessage(packed, transferOf(packed));
  try {
    return await received;
  } finally {
    port1.close();
    port2.close();
  }
}

describe('a mapped page packed for the trip between threads', () => {
  it('unpacks to exactly the page that was packed: every kind of row, in order, with its position', async () => {
    const unpacked = unpackPage(await throughPort(packPage(page)));
    expect(unpacked).toEqual(page);
    expect(unpacked.rows.map((row) => row.kind)).toEqual(['send', 'invalid', 'send', 'send', 'send', 'send']);
  });

  it('carries the events of the common row as one block of UTF-8, not an object per row', () => {
    const packed = packPage(page);
    expect(packed.events).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(packed.events).toString('utf8')).toBe(
      [event(1), event(3, 'zwei Ereignisse ü'), event(4, '😀'), event(7, '')].join(''),
    );
    expect(packed.keys).toHaveLength(4);
    expect(packed.others.map(([index]) => index)).toEqual([1, 4]);
  });

  it('hands the block over instead of copying it: the posting side keeps none of it', async () => {
    const packed = packPage(page);
    const unpacked = unpackPage(await throughPort(packed));
    expect(packed.events.byteLength).toBe(0);
    expect(unpacked).toEqual(page);
  });

  it('keeps a page without position, null cursor or duplicates without them', () => {
    const plain: MappedPage = { rows: [{ kind: 'send', key: 1, events: [event(1)], payloads: [] }] };
    expect(unpackPage(packPage(plain))).toStrictEqual(plain);
    expect(unpackPage(packPage({ rows: [] }))).toStrictEqual({ rows: [] });
  });
});
