import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import {
  createDeadLetterFile,
  createDeadLetterList,
  createSender,
  formatReport,
  loadMixpanelConfig,
  type Sender,
} from '@idmerge/shared';
import {
  createSource,
  loadSyncDefinition,
  runSync,
  StateStore,
  type RunReport,
} from '@idmerge/warehouse-sync';
import { progressLine } from '../render/progress.js';

interface SyncOptions {
  config: string;
  dryRun?: boolean;
  fullRefresh?: boolean;
  shard?: { index: number; count: number };
  deadLetter?: string;
}

/** State lives beside the definition file (or where `state_dir` says), one folder per sync and shard. */
function stateDirFor(
  configured: string | undefined,
  configFile: string,
  name: string,
  shardOf: { index: number; count: number } | undefined,
): string {
  const base = configured
    ? resolve(dirname(configFile), configured)
    : join(dirname(configFile), '.idmerge', 'state');
  return join(base, shardOf ? `${name}-shard-${shardOf.index}-of-${shardOf.count}` : name);
}

function shard(value: string): { index: number; count: number } {
  const match = /^(\d+)\/(\d+)$/.exec(value);
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (match === null || count < 1 || index >= count)
    throw new InvalidArgumentError('expected i/N with 0 ≤ i < N, e.g. 0/4');
  return { index, count };
}

/** Counts what a dry run would send; delivers nothing. */
function dryRunSender(): Sender {
  const list = createDeadLetterList();
  const sender = createSender(
    { region: 'us', apiHost: 'http://127.0.0.1:9', auth: { kind: 'token', token: 'dry-run' }, secrets: [] },
    { deadLetter: list },
  );
  let payloads = 0;
  return {
    report: sender.report,
    send: () => {
      payloads++;
      sender.report.recordsIn++;
      sender.report.delivered++;
      return undefined;
    },
    reject: (original, reason, field) => sender.reject(original, reason, field),
    drain: async () => {},
    flush: async () => ({ ...sender.report, eventsPerSecond: payloads }),
    onUndelivered: (listener) => sender.onUndelivered(listener),
  };
}

function formatRun(run: RunReport): string {
  const lines = [
    `window:            (${run.window.after ?? 'start'} − lookback, ${run.window.upTo ?? 'end'}]${run.resumed ? ' (resumed from a checkpoint)' : ''}`,
    `rows read:         ${run.rowsRead} (${Math.round(run.rowsPerSecond)} rows/s)`,
    `invalid rows:      ${run.invalid}`,
    ...(run.unchanged > 0 ? [`unchanged profiles: ${run.unchanged} (not sent again)`] : []),
  ];
  for (const [reason, count] of Object.entries(run.invalidByReason)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)) {
    lines.push(`  ${count} × ${reason}`);
  }
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('sync')
    .description(
      'Run a warehouse sync once: read the rows after the last run (incremental on the cursor, with lookback), map them, ' +
        'deliver them, checkpoint after every page. A killed run resumes where it stopped.',
    )
    .requiredOption('--config <file>', 'sync definition (YAML)')
    .option('--dry-run', 'read and map, send nothing, keep no state')
    .option('--full-refresh', 'read every row again (insert IDs make it safe)')
    .option('--shard <i/N>', 'only rows whose key hashes to shard i of N', shard)
    .option('--dead-letter <path>', 'NDJSON file for rows not delivered (default: in the state folder)')
    .action(async (options: SyncOptions) => {
      const definition = await loadSyncDefinition(options.config);
      const stateDir = options.dryRun
        ? mkdtempSync(join(tmpdir(), 'idmerge-dry-run-'))
        : stateDirFor(definition.state_dir, options.config, definition.name, options.shard);
      const store = new StateStore(stateDir);
      const unlock = store.lock(definition.name);
      const deadLetterPath = options.deadLetter ?? join(stateDir, 'dead-letter.ndjson');
      const config = options.dryRun ? undefined : loadMixpanelConfig();
      const deadLetter = createDeadLetterFile(deadLetterPath, config?.secrets ?? []);
      const sender = config ? createSender(config, { deadLetter }) : dryRunSender();
      const source = createSource(definition, dirname(options.config));
      let run: RunReport | undefined;
      const bar = progressLine(
        `sync ${definition.name} | {value} rows read | {delivered} delivered | {failed} failed | {speed} rows/s`,
        { delivered: 0, failed: 0, speed: 0 },
      );
      const started = Date.now();
      try {
        await source.connect();
        run = await runSync(definition, source, sender, store, {
          fullRefresh: options.fullRefresh,
          shard: options.shard,
          onPage: ({ rowsRead }) =>
            bar?.update(rowsRead, {
              delivered: sender.report.delivered,
              failed: sender.report.deadLettered,
              speed: Math.round((rowsRead * 1000) / (Date.now() - started + 1)),
            }),
        });
      } finally {
        bar?.stop();
        const report = await sender.flush();
        await source.close();
        await deadLetter.close();
        unlock();
        if (run) {
          console.log(`sync ${definition.name}${options.dryRun ? ' (dry run: nothing sent)' : ''}`);
          console.log(formatRun(run));
          console.log(formatReport(report));
          if (report.deadLettered > 0) console.log(`dead-letter file: ${deadLetterPath}`);
          process.exitCode = report.stoppedBecause ? 1 : report.deadLettered > 0 ? 2 : 0;
        }
      }
    });
}
