import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { DeadLetterEntry } from './report.js';
import { redact } from './config.js';

export interface DeadLetterSink {
  write(entry: DeadLetterEntry): Promise<void>;
  close(): Promise<void>;
}

/** Dead-letter entries as NDJSON in a file, secrets scrubbed, honouring the stream's backpressure. */
export function createDeadLetterFile(path: string, secrets: readonly string[]): DeadLetterSink {
  const stream = createWriteStream(path, { flags: 'a' });
  return {
    async write(entry) {
      if (!stream.write(`${redact(JSON.stringify(entry), secrets)}\n`)) await once(stream, 'drain');
    },
    async close() {
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
