import { mkdir, open, readdir, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../logger.js';
import { decodeFrames, FRAME_HEADER_BYTES, MAX_RECORD_BYTES, encodeFrames } from './frames.js';
import { acquireLock, type Lock } from './lock.js';
import { readProgress, writeProgress, type LogPosition } from './progress.js';
import { RecentRecords, type FlushedAppend } from './recent.js';
import { readAt, scanSegment, segmentName, SEGMENT_PATTERN, syncDirectory } from './segment-files.js';

export type { LogPosition } from './progress.js';

/** The log holds `maxBytes` of undelivered calls already: the caller answers 503 with Retry-After. */
export class QueueFullError extends Error {
  constructor(readonly maxBytes: number) {
    super(`the queue holds its maximum of ${maxBytes} bytes of undelivered calls`);
    this.name = 'QueueFullError';
  }
}

/** Writing or flushing the log failed (full disk, I/O error): nothing of that append was kept. */
export class PersistError extends Error {
  constructor(override readonly cause: Error) {
    super(`the call log could not be written: ${cause.message}`);
    this.name = 'PersistError';
  }
}

export interface SegmentLogOptions {
  dir: string;
  /** Cap on undelivered bytes on disk (frames included). */
  maxBytes: number;
  /** A segment is closed and a new one started once it holds this many bytes. */
  segmentBytes?: number;
  /** The progress file is written at most this often (default 1000 ms); commits in between share a write. */
  progressIntervalMs?: number;
  /** Text bytes of flushed, unread records kept in memory for the reader (default 8 MB). */
  recentBytes?: number;
  /** How many calls a record holds (default one): what depth() and commit() count. */
  weigh?: (text: string) => number;
  logger: Logger;
}

export interface LogRecord<Memo = never> {
  text: string;
  /** The position just past this record: committing it marks the record delivered. */
  end: LogPosition;
  /** What the appender handed in with the record, when it is read while still in memory. */
  memo?: Memo;
}

interface Segment {
  id: number;
  /** Bytes written and flushed: readers never go past them. */
  size: number;
}

const DEFAULT_SEGMENT_BYTES = 8 * 1024 * 1024;

interface PendingAppend<Memo> extends FlushedAppend<Memo> {
  frames: Buffer;
  waiter: { resolve: () => void; reject: (error: Error) => void };
}

/**
 * The durable queue of accepted calls: append-only segment files of checksummed frames in
 * `<dir>/log`, and a progress file naming the position below which every call is delivered.
 *
 * Invariants: `append` resolves only after its frames are written and `fdatasync`ed; appends that
 * arrive while a flush runs are written together by the next one (group commit), so one fsync
 * serves every concurrent request. Readers see flushed bytes only. A segment is deleted once the
 * progress position has passed it, so disk use follows what is undelivered. Flushed records not yet
 * read stay in memory too (bounded), with a memo of the appender's, so that the reader of a log that
 * keeps up neither reads them from disk nor parses them again; the disk stays the copy that counts.
 */
export class SegmentLog<Memo = never> {
  private readonly segments: Segment[];
  private active: FileHandle;
  private cursor: LogPosition;
  private records: number;
  private pending: Array<PendingAppend<Memo>> = [];
  private readonly recent: RecentRecords<Memo>;
  private pendingBytes = 0;
  private flushing: Promise<void> | undefined;
  private dataWaiters: Array<() => void> = [];
  private progressWrite: Promise<void> = Promise.resolve();
  /** The next progress write, shared by the commits made until it starts. */
  private progressDue: Promise<void> | undefined;
  private progressWake: (() => void) | undefined;
  private progressWrittenAt = 0;
  private closed = false;
  private reader: { id: number; handle: FileHandle } | undefined;
  /** The last append failure, until an append succeeds again (`/readyz`). */
  lastError: Error | undefined;
  /** Flushes (fdatasync calls) of appended data so far: fewer than appends under concurrency. */
  flushes = 0;

  private constructor(
    private readonly options: Required<SegmentLogOptions>,
    private readonly logDir: string,
    private readonly lock: Lock,
    state: { segments: Segment[]; active: FileHandle; cursor: LogPosition; records: number },
  ) {
    this.segments = state.segments;
    this.active = state.active;
    this.cursor = state.cursor;
    this.records = state.records;
    this.recent = new RecentRecords(options.recentBytes);
  }

  /** Opens (or creates) the log in `dir`, dropping a torn tail, and starts a new segment. */
  static async open<Memo = never>(options: SegmentLogOptions): Promise<SegmentLog<Memo>> {
    const full = {
      segmentBytes: DEFAULT_SEGMENT_BYTES,
      progressIntervalMs: 1000,
      recentBytes: 8 * 1024 * 1024,
      weigh: () => 1,
      ...options,
    };
    const logDir = join(options.dir, 'log');
    await mkdir(logDir, { recursive: true, mode: 0o700 });
    const lock = await acquireLock(join(options.dir, 'lock'));
    try {
      const ids = (await readdir(logDir))
        .flatMap((name) => (SEGMENT_PATTERN.test(name) ? [Number.parseInt(name, 10)] : []))
        .sort((a, b) => a - b);
      let cursor = (await readProgress(options.dir)) ?? { segment: ids[0] ?? 1, offset: 0 };
      const segments: Segment[] = [];
      let records = 0;
      for (const id of ids) {
        const path = join(logDir, segmentName(id));
        if (id < cursor.segment) {
          await unlink(path);
          continue;
        }
        const from = id === cursor.segment ? cursor.offset : 0;
        const scan = await scanSegment(path, from, options.logger, full.weigh);
        segments.push({ id, size: scan.size });
        records += scan.records;
      }
      const first = segments[0];
      // The progress position's segment was deleted after it was passed: start at the next one.
      if (first !== undefined && first.id > cursor.segment) cursor = { segment: first.id, offset: 0 };
      // A progress position past a segment's end (its tail was torn): that segment's end.
      if (first !== undefined && first.id === cursor.segment && cursor.offset > first.size)
        cursor = { segment: first.id, offset: first.size };
      const id = (ids.at(-1) ?? 0) + 1;
      const active = await open(join(logDir, segmentName(id)), 'wx', 0o600);
      await syncDirectory(logDir);
      segments.push({ id, size: 0 });
      if (first === undefined) cursor = { segment: id, offset: 0 };
      return new SegmentLog<Memo>(full, logDir, lock, { segments, active, cursor, records });
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  /** Where undelivered calls start. */
  get start(): LogPosition {
    return this.cursor;
  }

  /** Undelivered calls (records, weighed) and their bytes on disk. */
  depth(): { records: number; bytes: number } {
    let bytes = -this.cursor.offset;
    for (const segment of this.segments) if (segment.id >= this.cursor.segment) bytes += segment.size;
    return { records: this.records, bytes: Math.max(0, bytes) };
  }

  /**
   * Writes `payloads` as one group of frames; resolves once they are on disk. Throws
   * QueueFullError (before writing) at the cap, PersistError when the write or flush fails.
   * `memos[i]`, when given, comes back with record i if it is read while still in memory.
   */
  append(payloads: readonly string[], memos?: ReadonlyArray<Memo | undefined>): Promise<void> {
    if (this.closed) return Promise.reject(new PersistError(new Error('the log is closed')));
    const ends: number[] = [];
    const frames = encodeFrames(payloads, ends);
    if (this.depth().bytes + this.pendingBytes + frames.length > this.options.maxBytes)
      return Promise.reject(new QueueFullError(this.options.maxBytes));
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ frames, texts: payloads, ends, memos, waiter: { resolve, reject } });
      this.pendingBytes += frames.length;
      this.flushing ??= this.flushLoop();
    });
  }

  private async flushLoop(): Promise<void> {
    while (this.pending.length > 0) {
      const group = this.pending;
      this.pending = [];
      const bytes = group.reduce((sum, item) => sum + item.frames.length, 0);
      const segment = this.segments.at(-1) as Segment;
      try {
        const buffer =
          group.length === 1 ? (group[0]?.frames as Buffer) : Buffer.concat(group.map((g) => g.frames));
        await this.writeAll(buffer, segment.size);
        await this.active.datasync();
        this.flushes++;
        this.recent.addFlushed({ segment: segment.id, offset: segment.size }, group);
        segment.size += bytes;
        this.pendingBytes -= bytes;
        for (const item of group) for (const text of item.texts) this.records += this.options.weigh(text);
        this.lastError = undefined;
        for (const item of group) item.waiter.resolve();
        this.wakeReaders();
        if (segment.size >= this.options.segmentBytes) await this.rotate();
      } catch (error) {
        this.pendingBytes -= bytes;
        const cause = error instanceof Error ? error : new Error(String(error));
        this.lastError = cause;
        this.options.logger.error('log write failed; the calls of that write were answered 503', {
          error: cause.message,
        });
        // Whatever part of the group reached the file is cut off again: it was never acknowledged.
        await this.active.truncate(segment.size).catch(() => undefined);
        for (const item of group) item.waiter.reject(new PersistError(cause));
      }
    }
    this.flushing = undefined;
  }

  private async writeAll(buffer: Buffer, position: number): Promise<void> {
    let written = 0;
    while (written < buffer.length) {
      const { bytesWritten } = await this.active.write(
        buffer,
        written,
        buffer.length - written,
        position + written,
      );
      written += bytesWritten;
    }
  }

  private async rotate(): Promise<void> {
    const id = (this.segments.at(-1) as Segment).id + 1;
    const next = await open(join(this.logDir, segmentName(id)), 'wx', 0o600);
    await syncDirectory(this.logDir);
    await this.active.close();
    this.active = next;
    this.segments.push({ id, size: 0 });
  }

  private wakeReaders(): void {
    const waiters = this.dataWaiters;
    this.dataWaiters = [];
    for (const wake of waiters) wake();
  }

  private segmentAt(id: number): Segment | undefined {
    return this.segments.find((segment) => segment.id === id);
  }

  /** True when flushed records exist at or after `from`. */
  hasData(from: LogPosition): boolean {
    const last = this.segments.at(-1) as Segment;
    if (from.segment < last.id) return true;
    return from.offset < last.size;
  }

  /** Resolves when flushed records exist at or after `from`, or the log closes. */
  async waitForData(from: LogPosition): Promise<void> {
    if (this.closed || this.hasData(from)) return;
    await new Promise<void>((resolve) => this.dataWaiters.push(resolve));
  }

  /** Up to about `maxBytes` of flushed records from `from`; `next` is where the following read starts. */
  async read(
    from: LogPosition,
    maxBytes: number,
  ): Promise<{ records: Array<LogRecord<Memo>>; next: LogPosition }> {
    let position = from;
    for (;;) {
      const segment = this.segmentAt(position.segment);
      const isLast = segment === this.segments.at(-1);
      if (segment === undefined) {
        const later = this.segments.find((s) => s.id > position.segment);
        if (later === undefined) return { records: [], next: position };
        position = { segment: later.id, offset: 0 };
        continue;
      }
      const available = segment.size - position.offset;
      if (available <= 0) {
        if (isLast) return { records: [], next: position };
        position = { segment: segment.id + 1, offset: 0 };
        continue;
      }
      const kept = this.recent.take(position, maxBytes);
      const last = kept.at(-1);
      if (last !== undefined) return { records: kept, next: last.end };
      const length = Math.min(available, Math.max(maxBytes, MAX_RECORD_BYTES + FRAME_HEADER_BYTES));
      const buffer = await this.readBytes(segment.id, position.offset, Math.min(length, available));
      const decoded = decodeFrames(buffer);
      const base = position;
      const records = decoded.records.map((record) => ({
        text: record.text,
        end: { segment: base.segment, offset: base.offset + record.end },
      }));
      this.recent.dropBefore({ segment: base.segment, offset: base.offset + decoded.validBytes });
      if (decoded.bad !== undefined) {
        // Flushed bytes that no longer check out: the disk changed them. The rest of the segment
        // cannot be framed again, so it is skipped, loudly.
        this.options.logger.error('log segment corrupt on disk; its remainder is skipped', {
          segment: segmentName(segment.id),
          offset: base.offset + decoded.validBytes,
          reason: decoded.bad,
          bytesSkipped: segment.size - base.offset - decoded.validBytes,
        });
        if (!isLast) return { records, next: { segment: segment.id + 1, offset: 0 } };
        segment.size = base.offset + decoded.validBytes;
      }
      return { records, next: { segment: base.segment, offset: base.offset + decoded.validBytes } };
    }
  }

  private async readBytes(id: number, offset: number, length: number): Promise<Buffer> {
    // One segment is read at a time, front to back: its handle is kept until the next one.
    if (this.reader?.id !== id) {
      await this.reader?.handle.close().catch(() => undefined);
      this.reader = undefined;
      this.reader = { id, handle: await open(join(this.logDir, segmentName(id)), 'r') };
    }
    return readAt(this.reader.handle, offset, length);
  }

  /** Flushed bytes at and after `from`. */
  bytesFrom(from: LogPosition): number {
    let bytes = 0;
    for (const segment of this.segments) {
      if (segment.id > from.segment) bytes += segment.size;
      else if (segment.id === from.segment) bytes += Math.max(0, segment.size - from.offset);
    }
    return bytes;
  }

  /**
   * Marks everything before `to` delivered (`records` of them since the last commit). The position
   * counts at once (queue depth, the cap); the progress file is rewritten atomically at most once
   * per `progressIntervalMs` with the newest position, and segments wholly before it are deleted
   * then. Commits meanwhile share that write. After a crash an older position only means calls
   * are sent again, which their `$insert_id` makes harmless. Resolves once the position is recorded.
   */
  commit(to: LogPosition, records: number): Promise<void> {
    this.cursor = to;
    this.records = Math.max(0, this.records - records);
    this.progressDue ??= this.recordProgress();
    return this.progressDue;
  }

  private async recordProgress(): Promise<void> {
    await this.progressWrite;
    const wait = this.progressWrittenAt + this.options.progressIntervalMs - Date.now();
    if (wait > 0 && !this.closed)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.progressWake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    this.progressWake = undefined;
    this.progressDue = undefined;
    const to = this.cursor;
    const write = (async () => {
      await writeProgress(this.options.dir, to);
      const last = this.segments.at(-1) as Segment;
      while ((this.segments[0] as Segment).id < to.segment && this.segments[0] !== last) {
        const old = this.segments.shift() as Segment;
        await unlink(join(this.logDir, segmentName(old.id))).catch((error: Error) =>
          this.options.logger.error('could not delete a delivered log segment', { error: error.message }),
        );
      }
    })();
    this.progressWrite = write
      .catch((error: Error) =>
        this.options.logger.error('could not record delivery progress; calls will be sent again on restart', {
          error: error.message,
        }),
      )
      .finally(() => (this.progressWrittenAt = Date.now()));
    await this.progressWrite;
  }

  /** Waits for running writes, records progress, closes files and frees the data directory. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wakeReaders();
    this.progressWake?.();
    await this.flushing;
    await this.progressDue;
    await this.progressWrite;
    await this.active.close().catch(() => undefined);
    await this.reader?.handle.close().catch(() => undefined);
    await this.lock.release();
  }
}
