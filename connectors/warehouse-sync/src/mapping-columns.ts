import type { SyncDefinition } from './definition.js';

/** A column a mapping reads, with the definition key that names it (for errors). */
export interface MappedColumn {
  column: string;
  key: string;
}

type Mapping = SyncDefinition['mapping'];

/** The mapping keys whose values are column names (a constant `{ value }` is not one). */
function columnKeys(mapping: Mapping): Array<[string, unknown]> {
  switch (mapping.type) {
    case 'events':
      return [
        ['event', mapping.event],
        ['time', mapping.time],
        ['device_id', mapping.device_id],
        ['user_id', mapping.user_id],
        ['distinct_id', mapping.distinct_id],
        ['insert_id', mapping.insert_id],
      ];
    case 'identities':
      return [
        ['event', mapping.event],
        ['time', mapping.time],
        ['device_id', mapping.device_id],
        ['user_id', mapping.user_id],
        ['insert_id', mapping.insert_id],
      ];
    case 'profiles':
      return [['user_id', mapping.user_id]];
    case 'groups':
      return [['group_id', mapping.group_id]];
    case 'lookup_table':
      return [['key', mapping.key]];
  }
}

/**
 * Every column the definition's mapping names, with its key: a source that knows its columns when
 * it connects can refuse a misspelt one there, naming the key, instead of dead-lettering every row.
 */
export function mappedColumns(mapping: Mapping): MappedColumn[] {
  const found: MappedColumn[] = [];
  const add = (key: string, value: unknown) => {
    if (typeof value === 'string') found.push({ column: value, key: `mapping.${key}` });
    else if (Array.isArray(value))
      value.forEach((column: unknown, i) => {
        if (typeof column === 'string') found.push({ column, key: `mapping.${key}[${i}]` });
      });
  };
  for (const [key, value] of columnKeys(mapping)) add(key, value);
  if ((mapping.type === 'profiles' || mapping.type === 'groups') && mapping.operations !== undefined)
    for (const column of Object.keys(mapping.operations)) add('operations', column);
  if (mapping.type !== 'identities' && mapping.properties !== undefined) {
    const { include, rename } = mapping.properties;
    add('properties.include', include);
    if ('exclude' in mapping.properties) add('properties.exclude', mapping.properties.exclude);
    for (const column of Object.keys(rename ?? {})) add(`properties.rename`, column);
  }
  return found;
}
