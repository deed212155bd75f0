import {
  appendFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger, type Logger } from '../logger.js';
import { encodeFrames } from './frames.js';
import { QueueFullError, SegmentLog, type LogPosition } from './segment-log.js';

const open: SegmentLog[] = [];
afterEach(async () => {
  for (const log of open.splice(0)) await log.close();
});

async function openLog(
  dir: string,
  options: { maxBytes?: number; segmentBytes?: number; progressIntervalMs?: number; logger?: Logger } = {},
) {
  const log = await SegmentLog.open({
    dir,
    maxBytes: options.maxBytes ?? 1e9,
    logger: options.logger ?? silentLogger,
    ...(options.segmentBytes !== undefined ? { segmentBytes: options.segmentBytes } : {}),
    ...(options.progressIntervalMs !== undefined ? { progressIntervalMs: options.progressIntervalMs } : {}),
  });
  open.push(log);
  return log;
}

async function readAll(log: SegmentLog, from: LogPosition = log.start) {
  const texts: string[] = [];
  let position = from;
  for (;;) {
    const { records, next } = await log.read(position, 1 << 20);
    texts.push(...records.map((record) => record.text));
    if (records.length === 0 && next.segment === position.segment && next.offset === position.offset) break;
    position = next;
  }
  return { texts, end: position };
}

async function closeAll() {
  for (const log of open.splice(0)) await log.close();
}

const segmentsOf = (dir: string) =>
  readdirSync(join(dir, 'log'))
    .filter((name) => name.endsWith('.seg'))
    .sort();
const tempDir = () => mkdtempSync(join(tmpdir(), 'idmerge-log-'));

describe('the call log', () => {
  it('keeps appended records across a reopen and starts again after the delivered ones', async () => {
    const dir = tempDir();
    const log = await openLog(dir);
    await log.append(['a', 'b']);
    await log.append(['c']);
    const first = await log.read(log.start, 1 << 20);
    expect(first.records.map((r) => r.text)).toEqual(['a', 'b', 'c']);
    await log.commit(first.records[1]?.end as LogPosition, 2);
    expect(log.depth().records).toBe(1);
    await closeAll();
    const again = await openLog(dir);
    expect((await readAll(again)).texts).toEqual(['c']);
    expect(again.depth().records).toBe(1);
  });

  it('group commit: concurrent appends share flushes, and each resolves only after its flush', async () => {
    const log = await openLog(tempDir());
    await Promise.all(Array.from({ length: 200 }, (_, i) => log.append([`r${i}`])));
    expect(log.flushes).toBeGreaterThan(0);
    expect(log.flushes).toBeLessThan(200);
    expect((await readAll(log)).texts).toHaveLength(200);
  });

  it('files are 0600 in a 0700 directory', async () => {
    const dir = tempDir();
    const log = await openLog(dir);
    await log.append(['x']);
    const [segment] = segmentsOf(dir);
    expect(statSync(join(dir, 'log', segment as string)).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'log')).mode & 0o777).toBe(0o700);
  });

  it('cuts off a torn write at the end of a segment and keeps every whole record', async () => {
    const dir = tempDir();
    const log = await openLog(dir);
    await log.append(['one', 'two', 'three']);
    await closeAll();
    const path = join(dir, 'log', segmentsOf(dir)[0] as string);
    const whole = statSync(path).size;
    // A crash in the middle of the next write: half a frame.
    appendFileSync(path, encodeFrames(['four-was-never-acknowledged']).subarray(0, 13));
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (message: string) => void warnings.push(message) };
    const again = await openLog(dir, { logger });
    expect((await readAll(again)).texts).toEqual(['one', 'two', 'three']);
    expect(statSync(path).size).toBe(whole);
    expect(warnings.join()).toMatch(/torn write/);
    // Appends after the recovery go on normally.
    await again.append(['five']);
    expect((await readAll(again)).texts).toEqual(['one', 'two', 'three', 'five']);
  });

  it('a header torn after its length field is cut off too', async () => {
    const dir = tempDir();
    const log = await openLog(dir);
    await log.append(['one']);
    await closeAll();
    const path = join(dir, 'log', segmentsOf(dir)[0] as string);
    appendFileSync(path, Buffer.from([5, 0, 0]));
    expect((await readAll(await openLog(dir))).texts).toEqual(['one']);
  });

  it('a frame whose checksum fails is set aside in a .corrupt file, with the bytes after it', async () => {
    const dir = tempDir();
    const log = await openLog(dir);
    await log.append(['good']);
    await log.append(['damaged']);
    await closeAll();
    const path = join(dir, 'log', segmentsOf(dir)[0] as string);
    const bytes = readFileSync(path);
    bytes.writeUInt8((bytes.at(-2) ?? 0) ^ 0xff, bytes.length - 2);
    writeFileSync(path, bytes);
    const errors: string[] = [];
    const again = await openLog(dir, {
      logger: { ...silentLogger, error: (message) => void errors.push(message) },
    });
    expect((await readAll(again)).texts).toEqual(['good']);
    expect(errors.join()).toMatch(/corrupt/);
    expect(readFileSync(`${path}.corrupt`).includes(Buffer.from('damag'))).toBe(true);
    expect(readFileSync(`${path}.corrupt`).length).toBeGreaterThan(8);
  });

  it('rotates segments and deletes those wholly delivered: disk use follows what is undelivered', async () => {
    const dir = tempDir();
    const log = await openLog(dir, { segmentBytes: 64 });
    for (let i = 0; i < 10; i++) await log.append([`record-${i}-`.padEnd(40, 'x')]);
    expect(segmentsOf(dir).length).toBeGreaterThanOrEqual(5);
    const { texts, end } = await readAll(log);
    expect(texts).toHaveLength(10);
    await log.commit(end, 10);
    expect(segmentsOf(dir).length).toBeLessThanOrEqual(2);
    expect(log.depth()).toEqual({ records: 0, bytes: 0 });
    await closeAll();
    const again = await openLog(dir);
    expect((await readAll(again)).texts).toEqual([]);
  });

  it('writes the progress file at most once per interval, with the newest position, and on close', async () => {
    const dir = tempDir();
    const log = await openLog(dir, { progressIntervalMs: 60_000 });
    await log.append(['a', 'b', 'c']);
    const { records } = await log.read(log.start, 1 << 20);
    const [a, b, c] = records.map((record) => record.end);
    const progress = () => JSON.parse(readFileSync(join(dir, 'progress.json'), 'utf8')) as LogPosition;
    await log.commit(a as LogPosition, 1);
    expect(progress()).toEqual(a);
    // Within the interval: counted at once, written later (one write for both commits).
    void log.commit(b as LogPosition, 1);
    void log.commit(c as LogPosition, 1);
    expect(log.depth().records).toBe(0);
    expect(log.start).toEqual(c);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(progress()).toEqual(a);
    await closeAll();
    expect(progress()).toEqual(c);
    const again = await openLog(dir);
    expect((await readAll(again)).texts).toEqual([]);
  });

  it('refuses an append beyond the cap of undelivered bytes, and accepts again once delivered', async () => {
    const log = await openLog(tempDir(), { maxBytes: 100 });
    await log.append(['x'.repeat(60)]);
    await expect(log.append(['y'.repeat(60)])).rejects.toBeInstanceOf(QueueFullError);
    const { end } = await readAll(log);
    await log.commit(end, 1);
    await expect(log.append(['y'.repeat(60)])).resolves.toBeUndefined();
  });

  it('one process per data directory', async () => {
    const dir = tempDir();
    await openLog(dir);
    // The same process again stands for a restarted container's PID 1: the lock is taken over.
    await expect(openLog(dir)).resolves.toBeDefined();
    writeFileSync(join(dir, 'lock'), `${(await import('node:os')).hostname()} ${process.ppid}`);
    await expect(openLog(dir)).rejects.toThrow(/in use by process/);
    truncateSync(join(dir, 'lock'));
  });
});
