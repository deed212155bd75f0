import { access } from 'node:fs/promises';
import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  createDeadLetterFile,
  createDryRunSender,
  createSender,
  flatRowToEvent,
  formatReport,
  loadMixpanelConfig,
  redact,
  secretsFromEnv,
  type BackoffPolicy,
  type DeliveryReport,
  type IdMergeMode,
  type MappingResult,
  type Payload,
} from '@idmerge/shared';
import { collectionOnHeapGrowth } from '@idmerge/shared/memory';
import { deliveryExitCode, EXIT } from '../exit-codes.js';
import { backoffPolicy, modeOption, wholeNumber } from '../options.js';
import { FORMATS, readRecordBatches, type RecordFormat } from '../input/records.js';
import { progressLine } from '../render/progress.js';

/**
 * Records wait in batches for delivery long enough to reach V8's old space, which V8 lets grow by a
 * hundred megabytes before it collects. A full collection whenever the old generation grew by this
 * much keeps the importer's peak memory flat with the number of events (the program's young
 * generation is held small too: see cli/bin/idmerge.mjs). The margin trades memory for speed; the
 * measurements behind this value are in docs/benchmarks.md.
 */
const IMPORT_HEAP_GROWTH_BYTES = 2 * 1024 * 1024;

interface ImportOptions {
  format?: RecordFormat;
  deadLetter: string;
  concurrency: number;
  batchSize: number;
  mode: IdMergeMode;
  timeZone?: string;
  dryRun?: boolean;
  json?: boolean;
  timeoutMs: number;
  maxRetries: number;
  eventsPerSecond?: number;
  bytesPerMinute?: number;
  backoff?: BackoffPolicy;
}

/** Whether a record can be written as JSON (a dead-letter line): not nested past the stack. */
function writable(record: unknown): boolean {
  try {
    JSON.stringify(record, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
    return true;
  } catch {
    return false;
  }
}

function isMixpanelShaped(record: unknown): boolean {
  return typeof record === 'object' && record !== null && 'event' in record && 'properties' in record;
}

function describeErrors(result: Extract<MappingResult, { ok: false }>): { reason: string; field?: string } {
  const first = result.errors[0];
  return {
    reason: result.errors.map((e) => `${e.field ? `${e.field}: ` : ''}${e.message}`).join('; '),
    field: first?.field || undefined,
  };
}

/**
 * `idmerge import`: streams events (Mixpanel-shaped or flat rows) from files to Mixpanel through
 * the shared sender (the dry-run sender with --dry-run). Exit codes: see ../exit-codes.ts.
 */
export function register(program: Command): void {
  program
    .command('import')
    .description(
      'Send events from NDJSON, JSON, CSV or Parquet files to Mixpanel /import: validated, batched, gzipped, ' +
        'retried, with a dead-letter file for every record that was not delivered. Credentials from MIXPANEL_* variables.',
    )
    .argument(
      '<files...>',
      'files of events: {event, properties} objects, or flat rows with event, time, distinct_id, $device_id, $user_id columns',
    )
    .addOption(
      new Option('--format <format>', 'input format (default: from the file extension, else ndjson)').choices(
        FORMATS,
      ),
    )
    .addOption(modeOption().env('MIXPANEL_ID_MERGE'))
    .option(
      '--dead-letter <path>',
      'NDJSON file for records that were not delivered',
      'idmerge-dead-letter.ndjson',
    )
    .option('--concurrency <n>', 'requests in flight at once', wholeNumber('--concurrency', 1), 10)
    .option('--batch-size <n>', 'events per request (at most 2000)', wholeNumber('--batch-size', 1), 2000)
    .option('--time-zone <zone>', 'IANA time zone of times written without one')
    .option(
      '--events-per-second <n>',
      "cap the send rate, to stay inside the project's quota",
      wholeNumber('--events-per-second', 1),
    )
    .option(
      '--bytes-per-minute <n>',
      'cap uncompressed bytes sent per minute',
      wholeNumber('--bytes-per-minute', 1),
    )
    .option('--timeout-ms <ms>', 'per-request timeout', wholeNumber('--timeout-ms', 1), 60_000)
    .option(
      '--max-retries <n>',
      'retries of a request after 5xx, timeouts and connection errors',
      wholeNumber('--max-retries', 0),
      5,
    )
    .option(
      '--backoff <ms,ms,ms,ms>',
      'retry timing: initial, max, jitter min, jitter max (default: the spec, 2000,60000,1000,5000)',
      backoffPolicy,
    )
    .option('--dry-run', 'validate and count, send nothing')
    .option('--json', 'print the report as one JSON object')
    .action(async (files: string[], options: ImportOptions) => {
      for (const file of files) {
        await access(file).catch(() => {
          throw new InvalidArgumentError(`${file}: no such file, or it cannot be read`);
        });
      }
      const config = options.dryRun ? undefined : loadMixpanelConfig();
      const secrets = config?.secrets ?? secretsFromEnv();
      const deadLetter = createDeadLetterFile(options.deadLetter, secrets);
      const sender = config
        ? createSender(config, {
            concurrency: options.concurrency,
            batchSize: options.batchSize,
            deadLetter,
            timeoutMs: options.timeoutMs,
            maxRetries: options.maxRetries,
            backoff: options.backoff,
            eventsPerSecond: options.eventsPerSecond,
            bytesPerMinute: options.bytesPerMinute,
          })
        : createDryRunSender({ deadLetter });
      const bar = progressLine('importing {value} records | {delivered} delivered | {speed}/s', {
        delivered: 0,
        speed: 0,
      });
      const started = Date.now();
      const collectGarbage = collectionOnHeapGrowth(IMPORT_HEAP_GROWTH_BYTES);
      let index = 0;
      let fatal: string | undefined;
      try {
        for (const file of files) {
          for await (const batch of readRecordBatches(file, options.format)) {
            collectGarbage();
            for (const bad of batch.bad ?? []) {
              const { reason, ...input } = bad;
              index++;
              await sender.reject({ file, ...input }, `${file}: ${reason}`);
            }
            for (let i = 0; i < batch.records.length; i++) {
              const record = batch.records[i];
              const text = batch.texts?.[i];
              const at = index++;
              // Whatever a record holds, it is refused alone: a value no check foresaw that makes the
              // mapping or serializing throw (or nesting too deep for the stack) never stops the file.
              let outcome:
                | { payloads: Payload[]; jsons: Array<string | undefined> }
                | { reason: string; field?: string };
              try {
                const mapped = flatRowToEvent(record, {
                  mode: options.mode,
                  index: at,
                  timeZone: options.timeZone,
                });
                outcome = mapped.ok
                  ? {
                      payloads: mapped.payloads,
                      // An unchanged NDJSON record is sent as the very text it was read as.
                      jsons: mapped.payloads.map((payload) =>
                        mapped.sameAsInput && text !== undefined ? text : JSON.stringify(payload.body),
                      ),
                    }
                  : describeErrors(mapped);
              } catch (error) {
                outcome = { reason: `cannot be mapped: ${(error as Error).message}` };
              }
              if ('reason' in outcome) {
                // The record as read when it cannot be written back as JSON (e.g. nested too deeply).
                await sender.reject(
                  writable(record) ? record : { file, text: text ?? String(record) },
                  outcome.reason,
                  outcome.field,
                );
                continue;
              }
              // A Mixpanel-shaped record is its own payload (normalised); only flat rows are kept as
              // they came, for the dead-letter file. Queued batches then hold one JSON string a record.
              const original = isMixpanelShaped(record) ? undefined : record;
              for (let p = 0; p < outcome.payloads.length; p++) {
                const wait = sender.send(outcome.payloads[p] as Payload, original, outcome.jsons[p]);
                if (wait !== undefined) await wait;
              }
            }
            if (bar) {
              bar.update(index, {
                delivered: sender.report.delivered,
                speed: Math.round((index * 1000) / (Date.now() - started + 1)),
              });
            }
          }
        }
      } catch (error) {
        fatal = redact(error instanceof Error ? error.message : String(error), secrets);
      }
      const report = await sender.flush();
      bar?.stop();
      await deadLetter.close();
      printOutcome(options, report, { records: index, fatal });
      process.exitCode = fatal !== undefined ? EXIT.failed : deliveryExitCode(report);
    });
}

/** The report of a run (or, with --dry-run, what it counted), as text or one JSON object. */
function printOutcome(
  options: ImportOptions,
  report: DeliveryReport,
  run: { records: number; fatal?: string },
): void {
  const { fatal } = run;
  if (options.dryRun) {
    const invalid = report.deadLettered;
    const valid = run.records - invalid;
    console.log(
      options.json
        ? JSON.stringify({
            dryRun: true,
            records: run.records,
            valid,
            invalid,
            deadLetterFile: options.deadLetter,
            ...(fatal ? { error: fatal } : {}),
          })
        : `dry run: ${run.records} records, ${valid} valid, ${invalid} invalid${invalid ? ` (reasons in ${options.deadLetter})` : ''}; nothing was sent`,
    );
  } else if (options.json) {
    console.log(
      JSON.stringify({ ...report, deadLetterFile: options.deadLetter, ...(fatal ? { error: fatal } : {}) }),
    );
  } else {
    console.log(formatReport(report));
    if (report.deadLettered > 0) console.log(`dead-letter file: ${options.deadLetter}`);
  }
  if (fatal) console.error(`idmerge import: stopped: ${fatal}`);
}
