import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { loadVectorCases } from '@idmerge/shared/test/vectors';
import { startSandboxProcess } from './support/sandbox-process.js';

interface StoredEvent {
  ingested_distinct_id: string;
  distinct_id: string;
  properties: Record<string, unknown>;
}

describe('the conformance cases through the sandbox (a separate process)', () => {
  for (const vector of loadVectorCases()) {
    it(vector.name, async () => {
      const sandbox = await startSandboxProcess([
        '--mode',
        vector.mode,
        '--service-account',
        'sa:secret',
        '--project-id',
        '7',
      ]);
      try {
        const response = await fetch(`${sandbox.url}/import?strict=1&project_id=7`, {
          method: 'POST',
          headers: {
            Authorization: `Basic ${Buffer.from('sa:secret').toString('base64')}`,
            'Content-Type': 'application/json',
            'Content-Encoding': 'gzip',
          },
          body: gzipSync(JSON.stringify(vector.events)),
        });
        const accepted = vector.expect.events.filter((e) => !('rejected' in e)).length;
        expect(await response.json()).toMatchObject({ num_records_imported: accepted });

        const stored = await sandbox.ndjson<StoredEvent>('/_sandbox/events');
        const failureKey = vector.mode === 'simplified' ? '$identity_failure_reason' : '$failure_reason';
        expect(
          stored.map((e) => ({
            ingested_distinct_id: e.ingested_distinct_id,
            distinct_id: e.distinct_id,
            ...(e.properties[failureKey] ? { failure_reason: e.properties[failureKey] } : {}),
          })),
        ).toEqual(vector.expect.events.filter((e) => !('rejected' in e)));
        expect(await sandbox.json('/_sandbox/clusters')).toEqual({
          mode: vector.mode,
          clusters: vector.expect.clusters,
        });
      } finally {
        await sandbox.stop();
      }
    });
  }
});
