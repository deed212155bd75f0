import { tmpdir } from 'node:os';
import { afterEach, beforeEach } from 'vitest';
import {
  createDeadLetterList,
  createSender,
  startSandbox,
  type DeadLetterEntry,
  type RunningSandbox,
} from '@idmerge/shared';
import type { SyncDefinition } from '../../src/definition.js';
import { runSync, type RunOptions } from '../../src/run.js';
import { createSource } from '../../src/sources/create.js';
import { StateStore } from '../../src/state.js';

/**
 * A Simplified sandbox for each test of the file that calls this, and runs of a definition
 * through the real sender into it.
 */
export function sandboxRuns(token: string) {
  let sandbox: RunningSandbox | undefined;
  beforeEach(async () => {
    sandbox = await startSandbox({ port: 0, host: '127.0.0.1', mode: 'simplified', projectToken: token });
  });
  afterEach(async () => {
    await sandbox?.close();
  });
  const url = () => {
    if (sandbox === undefined) throw new Error('no sandbox: sandboxRuns works inside a test');
    return sandbox.url;
  };
  return {
    url,
    /** Events the sandbox accepted so far. */
    async accepted(): Promise<number> {
      return ((await (await fetch(`${url()}/_sandbox/stats`)).json()) as { accepted: number }).accepted;
    },
    /** One run of `definition` with its state in `stateDir`: the run's and the delivery's reports. */
    async run(definition: SyncDefinition, stateDir: string, options: RunOptions = {}) {
      const source = createSource(definition, tmpdir());
      await source.connect();
      const deadLetter = createDeadLetterList();
      const sender = createSender(
        { region: 'us', apiHost: url(), auth: { kind: 'token', token }, secrets: [token] },
        { deadLetter, sleep: async () => {} },
      );
      try {
        const report = await runSync(definition, source, sender, new StateStore(stateDir), options);
        return {
          report,
          delivery: await sender.flush(),
          deadLetter: deadLetter.entries as DeadLetterEntry[],
        };
      } finally {
        await source.close();
      }
    },
  };
}
