import { dirname } from 'node:path';
import type { Command } from 'commander';
import { wholeNumber } from '../options.js';
import { renderLookupPreview, renderPreview } from '../render/preview.js';

export function register(program: Command): void {
  program
    .command('preview')
    .description(
      'Show what a sync would do before anything is sent: reads and maps the rows, counts what a run would send ' +
        '(profiles: created, updated, unchanged, deleted, against the sync state), resolves identities as Mixpanel ' +
        'would, and prints sample payloads, cluster statistics and warnings.',
    )
    .requiredOption('--config <file>', 'sync definition (YAML)')
    .option('--limit <n>', 'read at most this many rows', wholeNumber('--limit', 1))
    .option('--json', 'print the report as one JSON object')
    .action(async (options: { config: string; limit?: number; json?: boolean }) => {
      const { createSource, isLookupSync, loadSyncDefinition, previewLookupTable, previewSync, StateStore } =
        await import('@idmerge/warehouse-sync');
      const { stateDirFor } = await import('../jobs/job-state.js');
      const definition = await loadSyncDefinition(options.config);
      // The state the next run would start from: profiles are counted against it.
      const stateDir = stateDirFor(definition.state_dir, options.config, definition.name, undefined);
      const source = createSource(definition, dirname(options.config));
      await source.connect();
      try {
        if (isLookupSync(definition)) {
          // Compared with the last replace the sync's state recorded (read only, no lock taken).
          const { loadMixpanelConfig } = await import('@idmerge/shared');
          const state = new StateStore(stateDir).load();
          let config;
          try {
            config = loadMixpanelConfig(process.env, { importAuth: false });
          } catch {
            config = undefined; // no usable settings: the content is compared alone
          }
          const report = await previewLookupTable(definition, source, state, config);
          console.log(options.json ? JSON.stringify(report) : renderLookupPreview(report));
          return;
        }
        const report = await previewSync(definition, source, options.limit, undefined, { stateDir });
        console.log(options.json ? JSON.stringify(report) : renderPreview(report));
      } finally {
        await source.close();
      }
    });
}
