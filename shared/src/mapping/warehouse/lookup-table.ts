import { z } from 'zod';
import { toJsonValue } from '../json-value.js';

/**
 * `mapping.type: lookup_table`: the whole result of the query replaces one Mixpanel lookup table.
 * The key column becomes the table's first column (Mixpanel takes the first column as the row ID);
 * the property columns follow, in the order listed, under their renamed headers.
 */
export const lookupTableMappingSchema = z
  .strictObject({
    type: z.literal('lookup_table'),
    /** The table's ID in Mixpanel (Lexicon shows it); the table must exist, made in Mixpanel's UI. */
    lookup_table_id: z
      .string()
      .min(1)
      .regex(/^[^/?#\s]+$/, 'must be the ID Lexicon shows (no /, ?, # or spaces)'),
    /** The column holding each row's ID; unique, never NULL or empty. */
    key: z.string().min(1),
    properties: z.strictObject({
      /** The columns sent, in this order, after the key: an explicit list. */
      include: z.array(z.string().min(1)).min(1),
      /** Column → header in the table (the key column too); default the column's own name. */
      rename: z.record(z.string(), z.string().min(1)).optional(),
    }),
  })
  .superRefine((mapping, context) => {
    const { include, rename = {} } = mapping.properties;
    const seen = new Set<string>();
    [mapping.key, ...include].forEach((column, i) => {
      if (seen.has(column))
        context.addIssue({
          code: 'custom',
          path: i === 0 ? ['key'] : ['properties', 'include', i - 1],
          message: `column "${column}" is listed twice (the key is the table's first column already)`,
        });
      seen.add(column);
    });
    for (const column of Object.keys(rename)) {
      if (!seen.has(column))
        context.addIssue({
          code: 'custom',
          path: ['properties', 'rename', column],
          message: `renames "${column}", which is neither the key nor in properties.include`,
        });
    }
    const headers = lookupTableHeader(mapping);
    const twice = headers.find((header, i) => headers.indexOf(header) !== i);
    if (twice !== undefined)
      context.addIssue({
        code: 'custom',
        path: ['properties', 'rename'],
        message: `two columns would have the header "${twice}"; Mixpanel needs every header unique`,
      });
  });

export type LookupTableMapping = z.output<typeof lookupTableMappingSchema>;

/** The columns read, in the table's order: the key, then the properties. */
export function lookupTableColumns(mapping: Pick<LookupTableMapping, 'key' | 'properties'>): string[] {
  return [mapping.key, ...mapping.properties.include];
}

/** The CSV header: each column's name, or its rename. */
export function lookupTableHeader(mapping: Pick<LookupTableMapping, 'key' | 'properties'>): string[] {
  const rename = mapping.properties.rename ?? {};
  return lookupTableColumns(mapping).map((column) => rename[column] ?? column);
}

/**
 * A warehouse value as a lookup-table cell, as Mixpanel reads cells back: `null` for NULL (written as
 * an empty, unquoted field, which Mixpanel takes as no value), text as it is (an empty string stays
 * an empty string, written `""`), numbers and booleans as JSON spells them (Mixpanel parses them as
 * numbers and booleans), times as RFC 3339 in UTC (parsed as datetimes), lists and objects as JSON
 * (a list of strings is parsed as a list). Throws a MappingFailure for an invalid Date or a value
 * nested too deeply, naming `column`.
 */
export function lookupTableCell(value: unknown, column: string): string | null {
  const json = toJsonValue(value, column);
  if (json === null) return null;
  return typeof json === 'string' ? json : JSON.stringify(json);
}
