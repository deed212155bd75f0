import { dirname } from 'node:path';
import {
  createDryRunSender,
  createSender,
  formatReport,
  type BackoffPolicy,
  type DeliveryReport,
} from '@idmerge/shared';
import {
  createSource,
  createSourceInWorker,
  runSync,
  type RunReport,
  type SyncDefinition,
} from '@idmerge/warehouse-sync';
import { deliveryExitCode, EXIT, type ExitCode } from '../exit-codes.js';
import { progressLine } from '../render/progress.js';
import { withJobState } from './job-state.js';

export interface SyncJobOptions {
  dryRun?: boolean;
  fullRefresh?: boolean;
  shard?: { index: number; count: number };
  deadLetter?: string;
  /** Retries of a request after 5xx, timeouts and connection errors (default: the sender's). */
  maxRetries?: number;
  backoff?: BackoffPolicy;
  /** `delete_missing`: lift the delete cap for this run (`true`), or allow up to this many deletes. */
  allowDeletes?: boolean | number;
  /** Show a live progress line when standard error is a terminal (default true). */
  progress?: boolean;
  env?: NodeJS.ProcessEnv;
  /** The program file to start a worker thread from, to read and map rows there (none: here). */
  workerEntry?: string;
}

export interface SyncJobResult {
  run: RunReport;
  delivery: DeliveryReport;
  deadLetterPath: string;
  /**
   * The command's exit code for this run (../exit-codes.ts): failed also when rows were left
   * unsettled (credentials refused, an outage; the next run sends them).
   */
  exitCode: ExitCode;
}

/**
 * One run of one sync definition, as `idmerge sync` and `idmerge schedule` both do it: lock the
 * state folder, read the window, deliver, checkpoint, and return the run and delivery reports.
 * Throws (after releasing everything) when the run cannot start or the source fails.
 */
export async function runSyncJob(
  definition: SyncDefinition,
  configFile: string,
  options: SyncJobOptions = {},
): Promise<SyncJobResult> {
  const env = options.env ?? process.env;
  return withJobState(
    definition,
    configFile,
    { ...options, env },
    async ({ store, deadLetter, deadLetterPath, config }) => {
      // Rows that failed for a reason not theirs are not dead-lettered: the run stops short of them
      // and the next one reads and sends them again.
      const sender = config
        ? createSender(config, {
            deadLetter,
            retryFailedLater: true,
            maxRetries: options.maxRetries,
            backoff: options.backoff,
          })
        : createDryRunSender({ deadLetter });
      // Rows are read and mapped in a worker thread when the program can start one, so that work
      // and delivery run on two cores; otherwise here.
      const source = options.workerEntry
        ? createSourceInWorker(definition, dirname(configFile), { entry: options.workerEntry, env })
        : createSource(definition, dirname(configFile), env);
      const bar =
        options.progress === false
          ? undefined
          : progressLine(
              `sync ${definition.name} | {value} rows read | {delivered} delivered | {failed} failed | {speed} rows/s`,
              { delivered: 0, failed: 0, speed: 0 },
            );
      const started = Date.now();
      let run: RunReport | undefined;
      let delivery: DeliveryReport;
      try {
        await source.connect();
        run = await runSync(definition, source, sender, store, {
          fullRefresh: options.fullRefresh,
          shard: options.shard,
          allowDeletes: options.allowDeletes,
          onPage: ({ rowsRead }) =>
            bar?.update(rowsRead, {
              delivered: sender.report.delivered,
              failed: sender.report.deadLettered,
              speed: Math.round((rowsRead * 1000) / (Date.now() - started + 1)),
            }),
        });
      } finally {
        bar?.stop();
        delivery = await sender.flush();
        await source.close();
      }
      const exitCode = run.incomplete !== undefined ? EXIT.failed : deliveryExitCode(delivery);
      return { run, delivery, deadLetterPath, exitCode };
    },
  );
}

/** `delete_missing`: what became of the keys no longer in the source. */
function formatDeletes(deletes: NonNullable<RunReport['deletes']>): string[] {
  if (deletes.skipped !== undefined) return [`deletes:           none sent: ${deletes.skipped}`];
  const lines = [
    `deletes:           ${deletes.accepted} accepted of ${deletes.sent} sent` +
      (deletes.failed > 0 ? ` (${deletes.failed} not accepted: kept, the next run sends them again)` : ''),
  ];
  if (deletes.released > 0)
    lines.push(
      `                   ${deletes.released} keys gone whose ID another row still has: not deleted`,
    );
  if (deletes.unknownIds > 0)
    lines.push(
      `                   ${deletes.unknownIds} keys gone that an older version synced without their ID: not deleted (see docs/warehouse-sync.md)`,
    );
  return lines;
}

/** The run report as people read it: window, rows, top invalid reasons, then the delivery report. */
export function formatSyncJob(
  definition: SyncDefinition,
  result: SyncJobResult,
  { dryRun = false }: { dryRun?: boolean } = {},
): string {
  const { run, delivery } = result;
  const lines = [
    `sync ${definition.name}${dryRun ? ' (dry run: nothing sent)' : ''}`,
    `window:            (${run.window.after ?? 'start'} − lookback, ${run.window.upTo ?? 'end'}]${run.resumed ? ' (resumed from a checkpoint)' : ''}`,
    `rows read:         ${run.rowsRead} (${Math.round(run.rowsPerSecond)} rows/s)`,
    `invalid rows:      ${run.invalid}`,
    ...(run.unchanged > 0 ? [`unchanged profiles: ${run.unchanged} (not sent again)`] : []),
    ...(run.nullCursor > 0
      ? [
          `NULL cursor:       ${run.nullCursor} rows (${definition.source.null_cursor === 'deliver' ? 'delivered: null_cursor: deliver' : 'dead-lettered: give them a cursor value, or set null_cursor: deliver'})`,
        ]
      : []),
    ...(run.duplicateKeys > 0
      ? [
          `duplicate keys:    ${run.duplicateKeys} rows share cursor and ${definition.source.primary_key} with another row (all read)`,
        ]
      : []),
  ];
  for (const [reason, count] of Object.entries(run.invalidByReason)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)) {
    lines.push(`  ${count} × ${reason}`);
  }
  if (run.deletes !== undefined) lines.push(...formatDeletes(run.deletes));
  lines.push(formatReport(delivery));
  if (delivery.deadLettered > 0) lines.push(`dead-letter file: ${result.deadLetterPath}`);
  if (run.incomplete !== undefined) {
    lines.push(
      `not finished:      ${run.incomplete}`,
      '                   the checkpoint stays before the rows not delivered; the next run sends them',
    );
  }
  return lines.join('\n');
}
