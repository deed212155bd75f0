import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from './logger.js';

/** One refused call, as a line of the dead-letter file. Never holds a write key. */
export interface DeadLetter {
  record: unknown;
  payload?: unknown;
  stage: string;
  reason: string;
  field?: string;
}

/** The dead-letter file was closed while a write was still being retried. */
export class DeadLetterClosedError extends Error {
  constructor() {
    super('the dead-letter file was closed before the entries could be written');
    this.name = 'DeadLetterClosedError';
  }
}

export interface DeadLetterFileOptions {
  path: string;
  redact: (text: string) => string;
  logger: Logger;
  /** Waits between attempts while the file cannot be written: first, then doubling up to max. */
  retry?: { firstMs: number; maxMs: number };
}

/**
 * The dead-letter file (NDJSON, created 0600). `write` resolves only when the entries are written
 * and flushed; while the file cannot be written (full disk, a path that cannot exist) it logs
 * the error and tries again, so the caller (delivery) keeps the calls in its log meanwhile and
 * nothing is lost. Writes run one at a time, in order.
 */
export class DeadLetterFile {
  private handle: FileHandle | undefined;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  private wakeUp: (() => void) | undefined;
  /** The error of the last attempt, until one succeeds (`/readyz` and stats show it). */
  failing: string | undefined;
  written = 0;

  constructor(private readonly options: DeadLetterFileOptions) {}

  write(entries: readonly DeadLetter[]): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    const text = entries.map((entry) => `${this.options.redact(JSON.stringify(entry))}\n`).join('');
    const result = this.chain.then(() => this.writeUntilDone(text, entries.length));
    this.chain = result.catch(() => undefined);
    return result;
  }

  private async writeUntilDone(text: string, count: number): Promise<void> {
    const { firstMs, maxMs } = this.options.retry ?? { firstMs: 500, maxMs: 30_000 };
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw new DeadLetterClosedError();
      try {
        this.handle ??= await this.openFile();
        await this.handle.appendFile(text);
        await this.handle.datasync();
        if (this.failing !== undefined)
          this.options.logger.info('dead-letter file writable again', { path: this.options.path });
        this.failing = undefined;
        this.written += count;
        return;
      } catch (error) {
        const message = (error as Error).message;
        if (this.failing === undefined || attempt % 10 === 0)
          this.options.logger.error(
            'cannot write the dead-letter file; the calls stay in the log and it is tried again',
            {
              path: this.options.path,
              error: message,
              entries: count,
            },
          );
        this.failing = message;
        await this.handle?.close().catch(() => undefined);
        this.handle = undefined;
        await this.pause(Math.min(maxMs, firstMs * 2 ** attempt));
      }
    }
  }

  private async openFile(): Promise<FileHandle> {
    await mkdir(dirname(this.options.path), { recursive: true });
    const handle = await open(this.options.path, 'a', 0o600);
    // An older file may have been created with looser permissions.
    await handle.chmod(0o600);
    return handle;
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Stops retrying (a write still failing rejects: its calls stay in the log) and closes the file. */
  async close(): Promise<void> {
    this.closed = true;
    this.wakeUp?.();
    await this.chain;
    await this.handle?.close().catch(() => undefined);
    this.handle = undefined;
  }
}
