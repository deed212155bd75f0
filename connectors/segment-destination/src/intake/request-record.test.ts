import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CheckedCall } from './calls.js';
import { SegmentLog } from './log/segment-log.js';
import { silentLogger } from './logger.js';
import { mapStored, prepareChecked, unitCalls, type DeliveryRecord } from './prepared.js';
import { logRecordsOf, readRequestRecord, weighRecord } from './request-record.js';

const receivedAt = '2026-12-01T12:00:00.000Z';
const mapping = { mode: 'simplified' as const };
const track = (extra: Record<string, unknown> = {}) => ({
  type: 'track',
  event: 'E',
  anonymousId: 'd',
  timestamp: '2026-12-01T11:00:00.000Z',
  ...extra,
});

/** A request as it arrives: its bytes, their text and the parsed body. */
function request(body: unknown, kind: 'batch' | 'track' = 'batch', bytes?: Buffer) {
  const text = JSON.stringify(body);
  const raw = bytes ?? Buffer.from(text);
  const parsed = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
  return { kind, bytes: raw, text: raw.toString('utf8'), body: parsed, receivedAt };
}

const prepare = (item: CheckedCall) => prepareChecked(item, mapping);
const insertIds = (records: readonly DeliveryRecord[]) => {
  const { count, calls } = unitCalls(records, mapping);
  return Array.from({ length: count }, (_, i) => {
    const mapped = calls.map(i);
    return 'payloads' in mapped
      ? (JSON.parse(mapped.payloads[0]?.json ?? '{}') as { properties: { $insert_id: string } }).properties
          .$insert_id
      : `dead: ${mapped.reason}`;
  });
};

describe('a request kept whole in one log record', () => {
  const body = {
    batch: [track({ messageId: 'm-1' }), track(), track({ timestamp: 1e20 }), track()],
    context: { library: { name: 'lib' } },
    sentAt: receivedAt,
  };

  it('reads back as the calls were accepted: the same message IDs given, time, context and refusals', () => {
    const kept = logRecordsOf(request(body), prepare);
    expect(kept.records).toHaveLength(1);
    expect(kept.calls).toBe(4);
    expect(kept.refused.map((refusal) => refusal.index)).toEqual([2]);
    const [text] = kept.records as [string];
    expect(weighRecord(text)).toBe(4);
    const fromMemory = insertIds([{ text, end: { segment: 1, offset: 0 }, memo: kept.memos?.[0] }]);
    const fromDisk = insertIds([{ text, end: { segment: 1, offset: 0 } }]);
    expect(fromDisk).toEqual(fromMemory);
    expect(fromDisk[0]).toBe('m-1');
    expect(fromDisk[1]).toMatch(/^[0-9a-f-]{36}$/);
    expect(fromDisk[1]).not.toBe(fromDisk[3]);
    expect(fromDisk[2]).toMatch(/^dead: timestamp is not a valid time/);
    const again = readRequestRecord(text);
    expect('items' in again && again.items[1]).toEqual({
      call: expect.objectContaining({ receivedAt, context: body.context }),
    });
  });

  it('a call’s stored form for a dead letter is the call as it was kept', () => {
    const [text] = logRecordsOf(request(body), prepare).records as [string];
    const { calls } = unitCalls([{ text, end: { segment: 1, offset: 0 } }], mapping);
    expect(calls.stored(0)).toMatchObject({ messageId: 'm-1', receivedAt, context: body.context });
    expect(calls.stored(2)).toMatchObject({ timestamp: 1e20 });
  });

  it('one record per call instead when the bytes hold a write key, bytes that are not UTF-8, or a large request', () => {
    const withKey = logRecordsOf(request({ ...body, writeKey: 'secret-key' }), prepare);
    const keyInCall = logRecordsOf(request({ batch: [track({ writeKey: 'secret-key' })] }), prepare);
    const single = logRecordsOf(request({ ...track(), writeKey: 'secret-key' }, 'track'), prepare);
    for (const kept of [withKey, keyInCall, single]) {
      expect(kept.records.length).toBe(kept.calls);
      expect(kept.records.join()).not.toContain('secret-key');
    }
    const invalid = Buffer.concat([
      Buffer.from('{"batch":[{"type":"track","event":"a'),
      Buffer.from([0xff]),
      Buffer.from('","anonymousId":"d"}]}'),
    ]);
    const notUtf8 = logRecordsOf(request(undefined, 'batch', invalid), prepare);
    expect(notUtf8.records.map((text) => text.startsWith('{"refused"'))).toEqual([true]);
    const large = logRecordsOf(
      request({ batch: Array.from({ length: 60 }, () => track({ properties: { text: 'x'.repeat(300) } })) }),
      prepare,
    );
    expect(large.records).toHaveLength(60);
    expect(large.records.every((text) => text.startsWith('{"call":'))).toBe(true);
  });

  it('records of one call each, as older data directories hold them, are delivered beside whole requests', () => {
    const old = JSON.stringify({ call: track({ messageId: 'old-1', receivedAt }) });
    const refusedOld = JSON.stringify({
      refused: 'type must be one of …',
      field: 'type',
      call: { type: 'x' },
    });
    const [whole] = logRecordsOf(request({ batch: [track({ messageId: 'new-1' })] }), prepare).records as [
      string,
    ];
    const at = { segment: 1, offset: 0 };
    expect(
      insertIds([
        { text: old, end: at },
        { text: refusedOld, end: at },
        { text: whole, end: at },
      ]),
    ).toEqual(['old-1', 'dead: type must be one of …', 'new-1']);
    expect(mapStored(old, mapping)).toHaveProperty('payloads');
  });

  it('a damaged whole-request record becomes a dead letter per call it counted, not a crash', () => {
    const [text] = logRecordsOf(request(body), prepare).records as [string];
    const damaged = text.replace('"batch":[', '"batch":[[');
    expect(insertIds([{ text: damaged, end: { segment: 1, offset: 0 } }])).toEqual(
      Array.from({ length: 4 }, () => expect.stringMatching(/^dead: a log record/)),
    );
  });

  it('the log counts the calls of whole-request records, after a restart too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'idmerge-whole-'));
    const open = () => SegmentLog.open({ dir, maxBytes: 1e9, logger: silentLogger, weigh: weighRecord });
    const log = await open();
    await log.append(logRecordsOf(request(body), prepare).records);
    await log.append([JSON.stringify({ call: track({ messageId: 'old' }) })]);
    expect(log.depth().records).toBe(5);
    await log.close();
    const again = await open();
    expect(again.depth().records).toBe(5);
    const { records, next } = await again.read(again.start, 1 << 20);
    expect(records).toHaveLength(2);
    await again.commit(next, 5);
    expect(again.depth().records).toBe(0);
    await again.close();
  });
});
