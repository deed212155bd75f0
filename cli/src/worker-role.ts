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

/**
 * The file this program was started from (its launcher, or the compiled entry): a worker thread
 * starts it again in a worker role. Undefined when it runs from TypeScript sources (under tsx), as
 * tsx's loader does not reach worker threads on Node 20; the work then stays in this thread.
 */
export function programFile(argv: readonly string[] = process.argv): string | undefined {
  const file = argv[1];
  return file !== undefined && /\.[cm]?js$/.test(file) ? file : undefined;
}
