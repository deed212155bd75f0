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
