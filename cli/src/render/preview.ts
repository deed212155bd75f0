import type { LookupPreviewReport, PreviewReport } from '@idmerge/warehouse-sync';
import { renderClusters } from './resolution.js';

/** A preview report for people. */
export function renderPreview(report: PreviewReport): string {
  const lines = [
    `preview (${report.mode} ID Merge): nothing was sent`,
    `rows read:          ${report.rowsRead} (${report.invalidRows} invalid)`,
  ];
  const { counts } = report;
  lines.push(
    `would send:         ${counts.created} created, ${counts.updated} updated, ${counts.unchanged} unchanged` +
      (counts.deleted === undefined ? '' : `, ${counts.deleted} deleted`),
  );
  for (const note of counts.notes) lines.push(`  (${note})`);
  if (counts.deleteCapStops !== undefined)
    lines.push(`  ⛔ the delete cap would stop the run before it sends anything: ${counts.deleteCapStops}`);
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

/** A lookup-table preview for people: what a run would send, and why not when it would not. */
export function renderLookupPreview(report: LookupPreviewReport): string {
  const kept = Object.entries(report.problems).filter(([, count]) => count > 0);
  const mb = (bytes: number) => `${(bytes / 1_000_000).toFixed(1)} MB`;
  const lines = [
    `preview of lookup table ${report.tableId}: nothing was sent`,
    `rows read:          ${report.rowsRead}`,
    `rows in the table:  ${report.rows}`,
    `CSV size:           ${mb(report.bytes)} (${report.bytes} bytes; limit ${mb(report.limitBytes)})`,
    `columns:            ${report.header.join(', ')}`,
    `since last replace: ${report.change}`,
    `a run would:        ${report.wouldSend ? 'replace the table' : `send nothing${report.blocked !== undefined ? ` (${report.blocked})` : ' (unchanged)'}`}`,
    `problems:           ${kept.length === 0 ? 'none' : kept.map(([kind, count]) => `${count} ${kind}`).join(', ')}`,
  ];
  for (const example of report.problemExamples) lines.push(`  ${example.kind}: ${example.reason}`);
  if (report.sampleRows.length > 0) {
    lines.push('first rows:');
    for (const row of report.sampleRows) lines.push(`  ${JSON.stringify(row)}`);
  }
  return lines.join('\n');
}
