import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDeadLetterFile } from './dead-letter-file.js';

describe('createDeadLetterFile', () => {
  it('creates missing folders and writes one NDJSON line per entry with secrets scrubbed', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'dl-')), 'new', 'folder', 'dead.ndjson');
    const sink = createDeadLetterFile(path, ['super-secret-1']);
    await sink.write({ record: { token: 'super-secret-1' }, stage: 'validation', reason: 'bad' });
    await sink.close();
    expect(readFileSync(path, 'utf8')).toBe(
      '{"record":{"token":"[redacted]"},"stage":"validation","reason":"bad"}\n',
    );
  });
});
