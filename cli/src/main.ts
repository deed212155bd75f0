#!/usr/bin/env -S npx tsx
import { Command } from 'commander';
import { stopYoungGenerationGrowth } from '@idmerge/shared/memory';
import { registerCommands } from './commands/index.js';
import { EXIT } from './exit-codes.js';
import { ENTRY_KEY } from './worker-entry.js';

// The launcher (cli/bin/idmerge.mjs) runs in the main thread only and records the entry it loaded:
// then node:worker_threads, which costs memory in every process that loads it, is loaded only by
// commands that start a worker.
const launched = (globalThis as Record<symbol, unknown>)[ENTRY_KEY] !== undefined;
const { isMainThread, workerData } = launched
  ? { isMainThread: true, workerData: undefined }
  : await import('node:worker_threads');

if (isMainThread) {
  // The program's commands stream records through this thread: a small young generation suffices.
  stopYoungGenerationGrowth();
  const program = new Command('idmerge')
    .description('Get Mixpanel ID Merge right: preview, map and deliver identity-correct data.')
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: true });

  registerCommands(program);

  program.parseAsync(process.argv).catch(async (error: unknown) => {
    // Loaded only on this path: no command pays for it at start.
    const { redact, secretsFromEnv } = await import('@idmerge/shared');
    const message = error instanceof Error ? error.message : String(error);
    console.error(`idmerge: ${redact(message, secretsFromEnv())}`);
    process.exitCode = EXIT.failed;
  });
} else {
  // Started again by itself in a worker thread (e.g. a sync reading and mapping rows beside delivery).
  const { serveWorkerRole } = await import('./worker-role.js');
  await serveWorkerRole(workerData);
}
