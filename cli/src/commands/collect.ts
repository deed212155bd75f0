import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { IdMergeMode } from '@idmerge/shared';
import { limitOldGenerationGrowth, resumeYoungGenerationGrowth } from '@idmerge/shared/memory';
import { loadMixpanelConfig } from '@idmerge/shared/sender';
import { EXIT } from '../exit-codes.js';
import { modeOption, wholeNumber } from '../options.js';

interface CollectOptions {
  port: number;
  host: string;
  mode: IdMergeMode;
  writeKey: string[];
  dataDir: string;
  maxQueueBytes: number;
  deadLetter?: string;
  concurrency: number;
  batchSize: number;
  maxRetries: number;
}

/** Where the call log lives unless `--data-dir` says otherwise: `$XDG_STATE_HOME/idmerge/collect`. */
function defaultDataDir(): string {
  return join(process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'idmerge', 'collect');
}

/** A fatal error as its message and where it was thrown: never a line of the bundle's source. */
function reportFatal(kind: string, error: unknown): void {
  const text = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
  process.stderr.write(
    `${JSON.stringify({ time: new Date().toISOString(), level: 'fatal', message: kind, error: text })}\n`,
  );
  process.exit(EXIT.failed);
}

export function register(program: Command): void {
  program
    .command('collect')
    .description(
      'Accept Segment HTTP tracking API calls (analytics.js, analytics-node, RudderStack and other Segment clients) ' +
        'and deliver them to Mixpanel. A call is answered 200 only once it is written and flushed to the log in ' +
        '--data-dir; delivery resumes from the log after a restart. Mixpanel settings come from MIXPANEL_* ' +
        'variables; write keys from SEGMENT_WRITE_KEY or SEGMENT_WRITE_KEY_FILE.',
    )
    .addOption(modeOption().env('MIXPANEL_ID_MERGE'))
    .option('--port <n>', 'port to listen on; 0 picks a free one', wholeNumber('--port', 0), 8088)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--data-dir <path>', 'directory of the call log (one per instance)', defaultDataDir())
    .option(
      '--max-queue-bytes <n>',
      'undelivered bytes the log may hold; beyond them calls are answered 503 with Retry-After',
      wholeNumber('--max-queue-bytes', 1),
      1024 * 1024 * 1024,
    )
    .option(
      '--dead-letter <path>',
      'NDJSON file for calls that cannot be delivered (default: in the data directory)',
    )
    .option(
      '--write-key <key>',
      'a valid write key (repeatable); visible in the process list: prefer SEGMENT_WRITE_KEY',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
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
      'retries of one request after 5xx, timeouts and connection errors before its calls wait for the next round',
      wholeNumber('--max-retries', 0),
      3,
    )
    .action(async (options: CollectOptions) => {
      process.on('uncaughtException', (error) => reportFatal('uncaught exception', error));
      process.on('unhandledRejection', (error) => reportFatal('unhandled rejection', error));
      // A server answering thousands of requests a second allocates fast; most of it dies young. A
      // young generation held at its starting size collected every few milliseconds.
      resumeYoungGenerationGrowth();
      // What stays alive is small (requests being flushed, calls waiting for delivery); calls that
      // wait a little pass through old space and die there. V8's own growth factor let it fill
      // with that garbage to several times the live heap between collections.
      limitOldGenerationGrowth(100);
      const config = loadMixpanelConfig();
      // Loaded only for this command, and only the intake: the Segment destination's modules are large.
      const { createLogger, loadWriteKeys, startCollect } =
        await import('@idmerge/segment-destination/collect');
      const writeKeys = loadWriteKeys(process.env, options.writeKey);
      const collect = await startCollect({
        port: options.port,
        host: options.host,
        dataDir: options.dataDir,
        maxQueueBytes: options.maxQueueBytes,
        ...(options.deadLetter !== undefined ? { deadLetterPath: options.deadLetter } : {}),
        writeKeys,
        mode: options.mode,
        config,
        sender: {
          concurrency: options.concurrency,
          batchSize: options.batchSize,
          maxRetries: options.maxRetries,
        },
      });
      const logger = createLogger();
      if (options.writeKey.length > 0)
        logger.warn(
          '--write-key puts the key in the process list; set SEGMENT_WRITE_KEY or SEGMENT_WRITE_KEY_FILE instead',
        );
      if (writeKeys.length === 0)
        logger.warn('no write key is set (SEGMENT_WRITE_KEY): every call is accepted, whoever sends it');
      const depth = collect.snapshot().queue;
      console.log(
        `idmerge collect listening on ${collect.url} (${options.mode}) → ${config.apiHost}; ` +
          `log in ${options.dataDir} holds ${depth.calls} undelivered calls`,
      );
      let stopping = false;
      const stop = () => {
        if (stopping) return;
        stopping = true;
        // Bounded: whatever Mixpanel does, the process is gone within 10 s; the log keeps the rest.
        setTimeout(() => {
          process.stderr.write(
            'idmerge collect: shutdown took over 9 s; exiting, undelivered calls stay in the log\n',
          );
          process.exit(0);
        }, 9000).unref();
        void collect.close().then(() => {
          const final = collect.snapshot();
          console.log(
            `idmerge collect stopped: ${final.delivered} delivered, ${final.deadLettered} dead-lettered, ` +
              `${final.queue.calls} undelivered kept in the log`,
          );
          process.exit(0);
        });
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
