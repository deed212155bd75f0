// The worker role of the idmerge program, for tests (started through source-worker-entry.mjs).
import { parentPort, workerData } from 'node:worker_threads';
import { isSourceWorkerData } from '../../src/worker/protocol.js';
import { serveSource } from '../../src/worker/serve-source.js';

if (!isSourceWorkerData(workerData) || parentPort === null) throw new Error('not a source worker');
if ((workerData.definition.name as string) === 'crash-on-start') process.exit(3);
await serveSource(workerData, parentPort);
