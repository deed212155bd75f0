import { join } from 'node:path';
import type { IdMergeMode } from '@idmerge/shared';
import {
  createSender,
  createTransport,
  type MixpanelConfig,
  type SenderOptions,
} from '@idmerge/shared/sender';
import { redactor, secretForms } from './auth.js';
import { BATCH_LIMIT_BYTES } from './body.js';
import { DeadLetterFile } from './dead-letter.js';
import { Delivery } from './delivery.js';
import { startHttp } from './http.js';
import { SegmentLog } from './log/segment-log.js';
import type { Prepared } from './prepared.js';
import { weighRecord } from './request-record.js';
import { createLogger, type Logger } from './logger.js';
import { CollectStats } from './stats.js';

export interface CollectOptions {
  port: number;
  host?: string;
  /** Where the call log lives (one directory per instance). */
  dataDir: string;
  /** Cap on undelivered bytes in the log; at it, calls are answered 503 with Retry-After. */
  maxQueueBytes: number;
  /** Default: `<dataDir>/dead-letter.ndjson`. */
  deadLetterPath?: string;
  /** Valid Segment write keys; none: every call is accepted. */
  writeKeys: readonly string[];
  mode: IdMergeMode;
  config: MixpanelConfig;
  sender?: Pick<SenderOptions, 'concurrency' | 'batchSize' | 'maxRetries' | 'timeoutMs' | 'backoff'>;
  /** Waits before undelivered calls are sent again (default 1 s doubling to 60 s). */
  retry?: { firstMs: number; maxMs: number };
  logger?: Logger;
}

export interface Collect {
  url: string;
  port: number;
  stats: CollectStats;
  snapshot(): CollectSnapshot;
  /** Stops accepting and delivering; undelivered calls stay in the log for the next start. */
  close(): Promise<void>;
}

export interface CollectSnapshot {
  queue: { calls: number; bytes: number; maxBytes: number; oldestUndeliveredSeconds: number | null };
  accepted: number;
  delivered: number;
  deadLettered: number;
  refusedByReason: Record<string, number>;
  requests: number;
  answers: Record<string, number>;
  delivery: { stoppedBy: string | null; lastFailure: string | null };
  log: { writable: boolean; error: string | null };
  deadLetterFile: { path: string; writable: boolean; error: string | null };
}

/**
 * `idmerge collect`: the durable log, the delivery loop and the HTTP server, wired together.
 * Calls are delivered from the log only, so what was accepted before a crash is sent on start.
 */
export async function startCollect(options: CollectOptions): Promise<Collect> {
  const { config } = options;
  const users = config.auth.kind === 'service-account' ? [config.auth.username] : [];
  const redact = redactor(secretForms([...config.secrets, ...options.writeKeys], users));
  const logger = options.logger ?? createLogger(undefined, redact);
  const stats = new CollectStats();
  const log = await SegmentLog.open<Prepared[]>({
    dir: options.dataDir,
    maxBytes: options.maxQueueBytes,
    weigh: weighRecord,
    logger,
  });
  const deadLetterPath = options.deadLetterPath ?? join(options.dataDir, 'dead-letter.ndjson');
  const deadLetter = new DeadLetterFile({ path: deadLetterPath, redact, logger });
  const senderOptions = options.sender ?? {};
  const transport = createTransport(senderOptions.concurrency ?? 10);
  const delivery = new Delivery({
    log,
    mapping: config.projectToken
      ? { mode: options.mode, token: config.projectToken }
      : { mode: options.mode },
    newSender: (sink) => createSender(config, { ...senderOptions, deadLetter: sink, transport }),
    deadLetter,
    stats,
    logger,
    ...(options.retry !== undefined ? { retry: options.retry } : {}),
  });

  const snapshot = (): CollectSnapshot => {
    const depth = log.depth();
    const oldest = delivery.oldestPending();
    return {
      queue: {
        calls: depth.records,
        bytes: depth.bytes,
        maxBytes: options.maxQueueBytes,
        oldestUndeliveredSeconds: oldest === undefined ? null : Math.max(0, (Date.now() - oldest) / 1000),
      },
      accepted: stats.accepted,
      delivered: stats.delivered,
      deadLettered: stats.deadLettered,
      refusedByReason: stats.refusedByReason,
      requests: stats.requests,
      answers: stats.answers,
      delivery: { stoppedBy: delivery.authFailure ?? null, lastFailure: delivery.lastFailure ?? null },
      log: { writable: log.lastError === undefined, error: log.lastError?.message ?? null },
      deadLetterFile: {
        path: deadLetterPath,
        writable: deadLetter.failing === undefined,
        error: deadLetter.failing ?? null,
      },
    };
  };
  const notReady = (): string[] => {
    const reasons: string[] = [];
    if (log.lastError !== undefined) reasons.push(`the log cannot be written: ${log.lastError.message}`);
    if (delivery.authFailure !== undefined) reasons.push(`delivery stopped: ${delivery.authFailure}`);
    if (log.depth().bytes + BATCH_LIMIT_BYTES > options.maxQueueBytes)
      reasons.push('the queue is at its cap: a full batch would be answered 503');
    return reasons;
  };

  let http;
  try {
    http = await startHttp({
      port: options.port,
      host: options.host ?? '127.0.0.1',
      writeKeys: options.writeKeys,
      log,
      prepare: (item) => delivery.prepare(item),
      stats,
      logger,
      notReady,
      snapshot,
    });
  } catch (error) {
    await log.close();
    throw error;
  }
  delivery.start();
  const server = http;
  return {
    url: server.url,
    port: server.port,
    stats,
    snapshot,
    async close() {
      await server.close();
      await delivery.stop();
      await deadLetter.close();
      await log.close();
      transport.close();
    },
  };
}
