import type { Command } from 'commander';
import { resolveEvents, type IdMergeMode } from '@idmerge/shared';
import { readEvents } from '../input/read-events.js';
import { modeOption } from '../options.js';

export function register(program: Command): void {
  program
    .command('resolve')
    .description(
      'Show how Mixpanel will resolve the identities of events (in ingestion order): per event the ' +
        'distinct_id at ingestion and after merging, failure reasons, rejections, and the clusters. Nothing is sent.',
    )
    .addOption(modeOption())
    .option('--input <file>', 'NDJSON or a JSON array of events; "-" or none reads standard input')
    .action(async (options: { mode: IdMergeMode; input?: string }) => {
      const events = await readEvents(options.input);
      process.stdout.write(`${JSON.stringify(resolveEvents(options.mode, events), null, 2)}\n`);
    });
}
