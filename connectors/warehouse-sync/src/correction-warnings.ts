import type { SyncDefinition } from './definition.js';
import type { PreviewWarning } from './preview.js';

/**
 * Mixpanel deduplicates events on (event, distinct_id, time, $insert_id): a row re-sent with the
 * same four replaces the stored event, so a corrected property value overwrites the old one. When
 * the `$insert_id` is a hash of columns a correction can change (the cursor, or property columns),
 * a corrected row gets a new `$insert_id` and Mixpanel keeps both: the warning names those columns.
 */
export function correctionWarnings(definition: SyncDefinition): PreviewWarning[] {
  const mapping = definition.mapping;
  if (mapping.type !== 'events' && mapping.type !== 'identities') return [];
  const spec = mapping.insert_id;
  if (spec === undefined || typeof spec === 'string') {
    if (spec !== undefined && spec === definition.source.cursor) return [warning([spec], definition)];
    return [];
  }
  const stable = new Set<string>([definition.source.primary_key]);
  for (const column of [mapping.event, mapping.time, mapping.device_id, mapping.user_id])
    if (typeof column === 'string') stable.add(column);
  if (mapping.type === 'events' && mapping.distinct_id !== undefined) stable.add(mapping.distinct_id);
  const changing = spec.filter((column) => !stable.has(column) || column === definition.source.cursor);
  return changing.length > 0 ? [warning(changing, definition)] : [];
}

function warning(columns: string[], definition: SyncDefinition): PreviewWarning {
  return {
    code: 'insert_id_changes_with_corrections',
    count: columns.length,
    message:
      `mapping.insert_id hashes ${columns.map((c) => `"${c}"`).join(', ')}, which a correction in the warehouse can ` +
      'change: the corrected row then gets a new $insert_id and Mixpanel keeps both events (a duplicate) instead of ' +
      `replacing the first; use columns that never change, such as the primary key "${definition.source.primary_key}"`,
    examples: columns,
  };
}
