import { Cron } from 'croner';
import { pino, type Logger } from 'pino';
import { redact, secretsFromEnv } from '@idmerge/shared';
import { isLookupSync, loadSyncDefinition, type SyncDefinition } from '@idmerge/warehouse-sync';
import { runLookupJob } from './lookup-job.js';
import { EXIT } from '../exit-codes.js';
import { programFile } from '../worker-entry.js';
import { runSyncJob } from './sync-job.js';

export interface ScheduleOptions {
  config: string[];
  runNow?: boolean;
  maxRuns?: number;
}

interface Job {
  file: string;
  definition: SyncDefinition;
  cron: Cron;
}

/** Loads every definition and checks its schedule before anything runs; all problems at once. */
async function loadJobs(files: string[]): Promise<Array<{ file: string; definition: SyncDefinition }>> {
  const problems: string[] = [];
  const jobs: Array<{ file: string; definition: SyncDefinition }> = [];
  for (const file of files) {
    try {
      const definition = await loadSyncDefinition(file);
      if (definition.schedule === undefined) {
        problems.push(`${file}: schedule: missing; add a cron expression such as "*/15 * * * *"`);
        continue;
      }
      try {
        new Cron(definition.schedule, { paused: true }).stop();
      } catch (error) {
        problems.push(
          `${file}: schedule: "${definition.schedule}" is not a cron expression (${error instanceof Error ? error.message : String(error)})`,
        );
        continue;
      }
      jobs.push({ file, definition });
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
    }
  }
  const names = jobs.map((j) => j.definition.name);
  for (const name of new Set(names.filter((n, i) => names.indexOf(n) !== i)))
    problems.push(`two definitions are named "${name}"; each sync needs its own name (it names the state)`);
  if (problems.length > 0) throw new Error(`cannot schedule:\n  ${problems.join('\n  ')}`);
  return jobs;
}

/**
 * One scheduled run: its report is logged; a failure (an error, or rows left undelivered for the
 * next run) is logged at error level and the schedule goes on. True when the run failed.
 */
async function runOnce(job: Job, log: Logger): Promise<boolean> {
  const name = job.definition.name;
  log.info({ sync: name }, 'run started');
  try {
    if (isLookupSync(job.definition)) {
      const { run, exitCode, deadLetterPath } = await runLookupJob(job.definition, job.file);
      const level = exitCode === 0 ? 'info' : exitCode === 2 ? 'warn' : 'error';
      log[level](
        {
          sync: name,
          lookupTable: run.tableId,
          outcome: run.outcome,
          rowsRead: run.csv.rowsRead,
          rows: run.csv.rows,
          bytes: run.csv.bytes,
          deadLettered: run.deadLettered,
          requests: run.requests,
          elapsedMs: run.elapsedMs,
          ...(run.deadLettered > 0 ? { deadLetterFile: deadLetterPath } : {}),
          ...(run.reason !== undefined ? { error: redact(run.reason, secretsFromEnv()) } : {}),
          nextRun: job.cron.nextRun()?.toISOString() ?? null,
        },
        exitCode === 0
          ? 'run finished'
          : exitCode === 2
            ? 'run finished with dead-lettered rows'
            : 'run failed; the schedule goes on (the table keeps its rows)',
      );
      return exitCode === 1;
    }
    const { run, delivery, exitCode, deadLetterPath } = await runSyncJob(job.definition, job.file, {
      progress: false,
      workerEntry: programFile(),
    });
    const level = exitCode === 0 ? 'info' : exitCode === 2 ? 'warn' : 'error';
    log[level](
      {
        sync: name,
        window: run.window,
        resumed: run.resumed,
        rowsRead: run.rowsRead,
        invalid: run.invalid,
        invalidByReason: run.invalidByReason,
        unchanged: run.unchanged,
        nullCursor: run.nullCursor,
        duplicateKeys: run.duplicateKeys,
        delivered: delivery.delivered,
        deadLettered: delivery.deadLettered,
        rejectedByReason: delivery.rejectedByReason,
        retriedRequests: delivery.retriedRequests,
        rateLimitedWaits: delivery.rateLimitedWaits,
        elapsedMs: run.elapsedMs,
        rowsPerSecond: Math.round(run.rowsPerSecond),
        ...(run.deletes !== undefined ? { deletes: run.deletes } : {}),
        ...(delivery.deadLettered > 0 ? { deadLetterFile: deadLetterPath } : {}),
        ...(delivery.toRetry > 0 ? { toRetry: delivery.toRetry } : {}),
        ...(delivery.stoppedBecause ? { stoppedBecause: delivery.stoppedBecause } : {}),
        ...(run.incomplete !== undefined ? { error: redact(run.incomplete, secretsFromEnv()) } : {}),
        nextRun: job.cron.nextRun()?.toISOString() ?? null,
      },
      exitCode === 0
        ? 'run finished'
        : exitCode === 2
          ? 'run finished with dead-lettered rows'
          : 'run failed; the schedule goes on (the next run sends the rows not delivered)',
    );
    return exitCode === 1;
  } catch (error) {
    log.error(
      {
        sync: name,
        error: redact(error instanceof Error ? error.message : String(error), secretsFromEnv()),
        nextRun: job.cron.nextRun()?.toISOString() ?? null,
      },
      'run failed; the schedule goes on',
    );
    return true;
  }
}

/**
 * Runs every definition on its cron schedule until each reached `maxRuns` (or forever), logging
 * one JSON line per event; SIGTERM/SIGINT stop new runs and wait for the ones in progress.
 */
export async function runSchedule(options: ScheduleOptions): Promise<void> {
  const loaded = await loadJobs(options.config);
  const log = pino({ base: undefined, timestamp: pino.stdTimeFunctions.isoTime });
  const jobs: Job[] = [];
  const finished: Array<Promise<void>> = [];
  let failedRuns = 0;
  for (const { file, definition } of loaded) {
    let runs = 0;
    let done: () => void = () => {};
    finished.push(new Promise<void>((resolve) => (done = resolve)));
    const cron: Cron = new Cron(
      definition.schedule as string,
      {
        name: definition.name,
        protect: () => log.warn({ sync: definition.name }, 'skipped: the previous run is still going'),
        paused: true,
      },
      async () => {
        if (await runOnce(job, log)) failedRuns++;
        runs++;
        if (options.maxRuns !== undefined && runs >= options.maxRuns) {
          cron.stop();
          done();
        }
      },
    );
    const job: Job = { file, definition, cron };
    jobs.push(job);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      // A second signal means now: the run in progress resumes from its checkpoint next time.
      log.warn({ signal }, 'second signal: exiting now; an interrupted run resumes from its checkpoint');
      process.exit(EXIT.failed);
    }
    stopping = true;
    log.info({ signal }, 'stopping: no new runs; waiting for runs in progress');
    for (const job of jobs) job.cron.stop();
    const busy = jobs.filter((job) => job.cron.isBusy());
    void Promise.all(
      busy.map(
        (job) =>
          new Promise<void>((resolve) => {
            const timer = setInterval(() => {
              if (!job.cron.isBusy()) {
                clearInterval(timer);
                resolve();
              }
            }, 50);
          }),
      ),
    ).then(() => process.exit(EXIT.ok));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  for (const job of jobs) {
    log.info(
      {
        sync: job.definition.name,
        schedule: job.definition.schedule,
        nextRun: job.cron.nextRun()?.toISOString(),
      },
      'scheduled',
    );
    if (options.runNow) await job.cron.trigger();
    job.cron.resume();
  }
  await Promise.all(finished);
  if (failedRuns > 0) {
    log.error({ failedRuns }, 'every schedule reached --max-runs; some runs failed');
    process.exitCode = 1;
  } else log.info('every schedule reached --max-runs; done');
}
