import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.js';
import { SegmentLog, type LogPosition, type LogRecord } from './segment-log.js';

const open: Array<SegmentLog<string>> = [];
afterEach(async () => {
  for (const log of open.splice(0)) await log.close();
});

async function openLog(dir: string, options: { segmentBytes?: number; recentBytes?: number } = {}) {
  const log = await SegmentLog.open<string>({ dir, maxBytes: 1e9, logger: silentLogger, ...options });
  open.push(log);
  return log;
}

/** Every record from `from` on, read `maxBytes` at a time, as the delivery loop reads them. */
async function readAll(log: SegmentLog<string>, maxBytes = 1 << 20, from: LogPosition = log.start) {
  const records: Array<LogRecord<string>> = [];
  let position = from;
  for (;;) {
    const { records: some, next } = await log.read(position, maxBytes);
    records.push(...some);
    if (some.length === 0 && next.segment === position.segment && next.offset === position.offset) break;
    position = next;
  }
  return records;
}

const shape = (records: ReadonlyArray<LogRecord<string>>) => records.map(({ text, end }) => ({ text, end }));
const tempDir = () => mkdtempSync(join(tmpdir(), 'idmerge-recent-'));

describe('records read while still in memory', () => {
  it('come back with their memos, at the same positions as from disk', async () => {
    const dir = tempDir();
    const log = await openLog(dir);
    await Promise.all([log.append(['a', 'bb'], ['memo-a', 'memo-bb']), log.append(['ccc'], ['memo-ccc'])]);
    await log.append(['d']);
    const fromMemory = await readAll(log);
    expect(fromMemory.map((record) => record.memo)).toEqual(['memo-a', 'memo-bb', 'memo-ccc', undefined]);
    await log.close();
    // After a restart every record is read from disk: the same texts at the same positions.
    const fromDisk = await readAll(await openLog(dir));
    expect(fromDisk.map((record) => record.memo)).toEqual([undefined, undefined, undefined, undefined]);
    expect(shape(fromDisk)).toEqual(shape(fromMemory));
  });

  it('across segments, and in reads smaller than what is kept', async () => {
    const dir = tempDir();
    const log = await openLog(dir, { segmentBytes: 40 });
    const texts = Array.from({ length: 12 }, (_, i) => `record-${i}`.padEnd(14, '.'));
    for (const text of texts) await log.append([text], [`memo-${text}`]);
    const fromMemory = await readAll(log, 30);
    expect(fromMemory.map((record) => record.text)).toEqual(texts);
    expect(fromMemory.every((record) => record.memo === `memo-${record.text}`)).toBe(true);
    await log.close();
    expect(shape(await readAll(await openLog(dir), 30))).toEqual(shape(fromMemory));
  });

  it('beyond the bytes kept, the oldest are read from disk: no record missed or read twice', async () => {
    const dir = tempDir();
    const log = await openLog(dir, { recentBytes: 50 });
    const texts = Array.from({ length: 10 }, (_, i) => `record-${i}`.padEnd(20, '.'));
    for (const text of texts) await log.append([text], [`memo-${text}`]);
    const records = await readAll(log, 45);
    expect(records.map((record) => record.text)).toEqual(texts);
    // 50 bytes held the last two records only: the read from disk took them all (without memos).
    expect(records.every((record) => record.memo === undefined)).toBe(true);
    await log.close();
    expect(shape(await readAll(await openLog(dir)))).toEqual(shape(records));
  });

  it('a read from disk lets go of the kept records it covered', async () => {
    const log = await openLog(tempDir(), { recentBytes: 25 });
    await log.append(['x'.repeat(20)], ['memo-x']);
    await log.append(['y'.repeat(20)], ['memo-y']);
    await log.append(['z'.repeat(5)], ['memo-z']);
    // x was let go: the read from disk returns x, y and z; nothing of them comes back again.
    const first = await log.read(log.start, 1 << 20);
    expect(first.records.map((record) => record.text[0])).toEqual(['x', 'y', 'z']);
    await log.append(['w'], ['memo-w']);
    const second = await log.read(first.next, 1 << 20);
    expect(second.records.map((record) => [record.text, record.memo])).toEqual([['w', 'memo-w']]);
  });
});
