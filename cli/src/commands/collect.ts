import type { Command } from 'commander';
import type { IdMergeMode } from '@idmerge/shared';
import {
  createDeadLetterFile,
  createSender,
  formatReport,
  loadMixpanelConfig,
  redact,
} from '@idmerge/shared/sender';
import { deliveryExitCode } from '../exit-codes.js';
import { modeOption, wholeNumber } from '../options.js';

interface CollectOptions {
  port: number;
  host: string;
  mode: IdMergeMode;
  writeKey?: string;
  deadLetter: string;
  concurrency: number;
  batchSize: number;
  maxRetries: number;
  flushIntervalMs: number;
}

export function register(program: Command): void {
  program
    .command('collect')
    .description(
      'Accept Segment HTTP tracking API calls (POST /v1/track|identify|page|screen|alias|group|batch, gzip, ' +
        '32 KB per call, 500 KB per batch) and deliver them to Mixpanel through the Segment destination’s ' +
        'actions and the shared sender (queue with backpressure, retries, dead-letter). Mixpanel settings ' +
        'come from MIXPANEL_* variables.',
    )
    .addOption(modeOption().env('MIXPANEL_ID_MERGE'))
    .option('--port <n>', 'port to listen on; 0 picks a free one', wholeNumber('--port', 0), 8088)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--write-key <key>', 'require this Segment write key (Basic-auth username) on every call')
    .option(
      '--dead-letter <path>',
      'NDJSON file for calls that were refused or not delivered',
      'idmerge-collect-dead-letter.ndjson',
    )
    .option(
      '--concurrency <n>',
      'requests to Mixpanel in flight at once',
      wholeNumber('--concurrency', 1),
      10,
    )
    .option(
      '--batch-size <n>',
      'events per /import request (at most 2000)',
      wholeNumber('--batch-size', 1),
      2000,
    )
    .option(
      '--max-retries <n>',
      'retries of a request after 5xx, timeouts and connection errors',
      wholeNumber('--max-retries', 0),
      5,
    )
    .option(
      '--flush-interval-ms <ms>',
      'send buffered events at least this often even when a batch is not full',
      wholeNumber('--flush-interval-ms', 10),
      1000,
    )
    .action(async (options: CollectOptions) => {
      const config = loadMixpanelConfig();
      const deadLetter = createDeadLetterFile(options.deadLetter, config.secrets);
      const sender = createSender(config, {
        deadLetter,
        concurrency: options.concurrency,
        batchSize: options.batchSize,
        maxRetries: options.maxRetries,
      });
      // Loaded only for this command: the Segment actions runtime is heavy.
      const { startIntake } = await import('@idmerge/segment-destination');
      const intake = await startIntake({
        port: options.port,
        host: options.host,
        writeKey: options.writeKey,
        settings: {
          project_token: config.projectToken ?? '',
          id_merge_api: options.mode,
          region: config.region,
          api_host: config.apiHost,
        },
        sink: (payload, original) => sender.send(payload, original),
        reject: (original, reason, field) => sender.reject(original, reason, field),
      });
      console.log(`idmerge collect listening on ${intake.url} (${options.mode}) → ${config.apiHost}`);
      // The sender sends full batches at once; this sends partial ones so calls never wait long.
      let draining = false;
      const timer = setInterval(() => {
        if (draining) return;
        draining = true;
        void sender.drain().finally(() => {
          draining = false;
        });
      }, options.flushIntervalMs);
      let stopping = false;
      const stop = () => {
        if (stopping) return;
        stopping = true;
        void (async () => {
          clearInterval(timer);
          await intake.close();
          const report = await sender.flush();
          await deadLetter.close();
          console.log(redact(formatReport(report), config.secrets));
          process.exit(deliveryExitCode(report));
        })();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
