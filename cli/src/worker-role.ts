import { parentPort } from 'node:worker_threads';

/**
 * What the program does when it is started in a worker thread (by itself): the role its worker
 * data names. Today the one role is hosting a sync's source, which reads and maps rows.
 */
export async function serveWorkerRole(data: unknown): Promise<void> {
  const { isSourceWorkerData, serveSource } = await import('@idmerge/warehouse-sync');
  if (!isSourceWorkerData(data) || parentPort === null) {
    throw new Error('idmerge was started in a worker thread without a role it knows');
  }
  await serveSource(data, parentPort);
}

/** Where the launcher (cli/bin/idmerge.mjs) records the compiled entry file this process runs. */
export const ENTRY_KEY = Symbol.for('idmerge.entry');

/**
 * The file a worker thread starts to run this program again in a worker role: the compiled entry
 * the launcher loaded (so a worker never runs a newer build than its parent), else the compiled
 * file this process was started from. Undefined when the program runs from TypeScript sources
 * (under tsx), as tsx's loader does not reach worker threads on Node 20; the work then stays in
 * this thread.
 */
export function programFile(
  argv: readonly string[] = process.argv,
  launched: unknown = (globalThis as Record<symbol, unknown>)[ENTRY_KEY],
): string | undefined {
  if (typeof launched === 'string') return launched;
  const file = argv[1];
  return file !== undefined && /\.[cm]?js$/.test(file) ? file : undefined;
}
