import { z } from 'zod';
import type { Row } from './source.js';

/** A column of a BigQuery result schema (`schema.fields`), possibly nested. */
export interface BigQueryField {
  name: string;
  type: string;
  mode?: string;
  fields?: BigQueryField[];
}

export const bigQueryFieldSchema: z.ZodType<BigQueryField> = z.lazy(() =>
  z.looseObject({
    name: z.string(),
    type: z.string(),
    mode: z.string().optional(),
    fields: z.array(bigQueryFieldSchema).optional(),
  }),
);

/** A row as the REST API sends it: `{ f: [{ v }, …] }`, every scalar as text. */
const cellsSchema = z.looseObject({ f: z.array(z.looseObject({ v: z.unknown() })) });

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function integer(text: string): number | bigint {
  const value = BigInt(text);
  return value <= MAX_SAFE && value >= -MAX_SAFE ? Number(value) : value;
}

/** TIMESTAMP arrives as microseconds since the epoch (int64) or, in older formats, float seconds. */
function timestamp(text: string): Date {
  if (/^-?\d+$/.test(text)) return new Date(Number(BigInt(text) / 1000n));
  return new Date(Number.parseFloat(text) * 1000);
}

function scalar(field: BigQueryField, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string') return value;
  switch (field.type) {
    case 'INTEGER':
    case 'INT64':
      return integer(value);
    case 'FLOAT':
    case 'FLOAT64':
    case 'NUMERIC':
    case 'BIGNUMERIC':
      return Number(value);
    case 'BOOLEAN':
    case 'BOOL':
      return value === 'true';
    case 'TIMESTAMP':
      return timestamp(value);
    default:
      // STRING, BYTES (base64), DATE, DATETIME (no zone: the mapping's time_zone applies), TIME, JSON…
      return value;
  }
}

function cell(field: BigQueryField, value: unknown): unknown {
  if (field.mode === 'REPEATED') {
    if (!Array.isArray(value)) return [];
    return value.map((item) => cell({ ...field, mode: 'NULLABLE' }, (item as { v?: unknown }).v));
  }
  if (field.type === 'RECORD' || field.type === 'STRUCT') {
    if (value === null || value === undefined) return null;
    return record(field.fields ?? [], value);
  }
  return scalar(field, value);
}

function record(fields: BigQueryField[], raw: unknown, skip?: ReadonlySet<string>): Row {
  const cells = cellsSchema.parse(raw).f;
  const row: Row = {};
  fields.forEach((field, index) => {
    if (skip?.has(field.name)) return;
    row[field.name] = cell(field, cells[index]?.v);
  });
  return row;
}

/** One REST row as plain JS values: exact integers (bigint past 2^53), Dates for TIMESTAMP. */
export function rowFromRest(fields: BigQueryField[], raw: unknown, skip?: ReadonlySet<string>): Row {
  return record(fields, raw, skip);
}

/** The text of column `index` of a REST row, as sent (for cursor and key positions). */
export function textAt(raw: unknown, index: number): string {
  const value = cellsSchema.parse(raw).f[index]?.v;
  return value === null || value === undefined ? '' : String(value);
}
