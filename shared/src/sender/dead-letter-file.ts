import { once } from 'node:events';
import { createWriteStream, fchmodSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DeadLetterEntry } from './report.js';
import { redact } from './config.js';

/** Warehouse rows carry bigints, which JSON cannot: write them as numbers when exact, else as text. */
function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value !== 'bigint') return value;
  return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
}

/**
 * An entry as one JSON line. A record JSON cannot hold (nested deeper than the stack allows) is
 * written as a note saying so, so one such record never stops the file.
 */
function entryLine(entry: DeadLetterEntry): string {
  try {
    return JSON.stringify(entry, jsonSafe);
  } catch (error) {
    const { record: _record, payload: _payload, ...rest } = entry;
    return JSON.stringify({ ...rest, record: `[not representable as JSON: ${(error as Error).message}]` });
  }
}

export interface DeadLetterSink {
  write(entry: DeadLetterEntry): Promise<void>;
  close(): Promise<void>;
}

/**
 * Dead-letter entries as NDJSON in a file (its folder is created), secrets scrubbed, honouring the
 * stream's backpressure. A file that cannot be written fails the next write with the path and why.
 */
export function createDeadLetterFile(path: string, secrets: readonly string[]): DeadLetterSink {
  mkdirSync(dirname(path), { recursive: true });
  // Records hold user data: the file is 0600, also when it existed before with wider permissions.
  const fd = openSync(path, 'a', 0o600);
  fchmodSync(fd, 0o600);
  const stream = createWriteStream(path, { fd });
  let failed: Error | undefined;
  stream.on('error', (error) => {
    failed = new Error(`cannot write the dead-letter file ${path}: ${error.message}`);
  });
  const check = () => {
    if (failed) throw failed;
  };
  return {
    async write(entry) {
      check();
      if (!stream.write(`${redact(entryLine(entry), secrets)}\n`)) await once(stream, 'drain');
    },
    async close() {
      check();
      await new Promise<void>((resolve, reject) =>
        stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
      );
    },
  };
}

/** Keeps entries in memory (tests, small runs). */
export function createDeadLetterList(): DeadLetterSink & { entries: DeadLetterEntry[] } {
  const entries: DeadLetterEntry[] = [];
  return {
    entries,
    async write(entry) {
      entries.push(entry);
    },
    async close() {},
  };
}
