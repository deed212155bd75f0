import { dirname } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { createSource, loadSyncDefinition, previewSync, type PreviewReport } from '@idmerge/warehouse-sync';
import { renderClusters } from '../render/resolution.js';

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('--limit must be a whole number ≥ 1');
  return n;
}

function render(report: PreviewReport): string {
  const lines = [
    `preview (${report.mode} ID Merge): nothing was sent`,
    `rows read:          ${report.rowsRead} (${report.invalidRows} invalid)`,
  ];
  for (const [reason, count] of Object.entries(report.invalidByReason)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)) {
    lines.push(`  ${count} × ${reason}`);
  }
  lines.push(
    `clusters:           ${report.clusters.total} (${report.clusters.withUser} with a user)`,
    `devices per user:   ${report.devicesPerUser.average.toFixed(2)} on average, ${report.devicesPerUser.max} at most`,
    `largest clusters:   ${report.clusters.largest.map((c) => `${c.distinct_id} (${c.size})`).join(', ') || 'none'}`,
  );
  const failures = Object.entries(report.identityFailures);
  if (failures.length > 0)
    lines.push(`identity failures:  ${failures.map(([code, n]) => `${n} × ${code}`).join(', ')}`);
  lines.push(report.warnings.length === 0 ? 'warnings:           none' : 'warnings:');
  for (const warning of report.warnings) {
    lines.push(`  ⚠ ${warning.count} × ${warning.message}; e.g. ${warning.examples.join('; ')}`);
  }
  lines.push('sample payloads:');
  for (const payload of report.samplePayloads)
    lines.push(`  ${payload.endpoint}: ${JSON.stringify(payload.body)}`);
  lines.push('predicted clusters:', renderClusters(report.predictedClusters));
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('preview')
    .description(
      'Show what a sync would do to identities before anything is sent: reads and maps the rows, resolves them as ' +
        'Mixpanel would, and prints sample payloads, cluster statistics and warnings.',
    )
    .requiredOption('--config <file>', 'sync definition (YAML)')
    .option('--limit <n>', 'read at most this many rows', positive)
    .option('--json', 'print the report as one JSON object')
    .action(async (options: { config: string; limit?: number; json?: boolean }) => {
      const definition = await loadSyncDefinition(options.config);
      const source = createSource(definition, dirname(options.config));
      await source.connect();
      try {
        const report = await previewSync(definition, source, options.limit);
        console.log(options.json ? JSON.stringify(report) : render(report));
      } finally {
        await source.close();
      }
    });
}
