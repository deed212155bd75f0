import type pg from 'pg';
import { loadedPostgresDriver } from './postgres-driver.js';
import { parse as parseArray } from 'postgres-array';
import type { ColumnKind } from './window.js';

/**
 * How values arrive from PostgreSQL and Redshift (the text protocol, with the session in UTC and ISO
 * date style), as the mapping expects them:
 * - integers as numbers, `bigint` past 2^53 as exact bigints; `numeric` as numbers (integers past
 *   2^53 as bigints); floats as numbers;
 * - `timestamptz` as instants (Dates), so no `time_zone` is needed;
 * - `timestamp` (no zone) as its wall-clock text `2025-11-22T08:00:00.123456`, which the mapping
 *   reads in `time_zone`; `date` as `2025-11-22`; `time`, `interval` and other types as their text;
 * - `json`/`jsonb` parsed; arrays of any of these as arrays; NULL as null.
 */

export type Parser = (text: string) => unknown;

/** A number, or an exact bigint for an integer a number cannot hold. */
function integer(text: string): number | bigint {
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : BigInt(text);
}

function numeric(text: string): number | bigint | string {
  if (/^-?\d+$/.test(text)) return integer(text);
  const value = Number(text);
  // NaN and ±Infinity have no JSON number: kept as their text, like any value JSON cannot hold.
  return Number.isFinite(value) ? value : text;
}

function float(text: string): number | string {
  const value = Number(text);
  return Number.isFinite(value) ? value : text;
}

/** The driver's own parser, for what the session's UTC text does not cover. */
const timestampTz: Parser = (value) => {
  const { types } = loadedPostgresDriver().pg;
  return (types.getTypeParser(types.builtins.TIMESTAMPTZ) as Parser)(value);
};

/** The digits of `text` from `start` to `end` as a number, or -1 when one is not a digit. */
function digits(text: string, start: number, end: number): number {
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * What the session (TimeZone UTC, DateStyle ISO) prints for a timestamptz of years 100–9999,
 * `2025-11-22 08:00:00.123456+00`, as milliseconds; NaN for any other text. Read by position: every
 * row of a timestamp column passes here, and a regular expression with its match array of
 * strings costs more than the rest of the value's conversion.
 */
function utcMillis(text: string): number {
  const length = text.length;
  if (
    length < 22 ||
    text.charCodeAt(4) !== 45 || // -
    text.charCodeAt(7) !== 45 ||
    text.charCodeAt(10) !== 32 || // space
    text.charCodeAt(13) !== 58 || // :
    text.charCodeAt(16) !== 58 ||
    text.charCodeAt(length - 3) !== 43 || // +
    text.charCodeAt(length - 2) !== 48 || // 0
    text.charCodeAt(length - 1) !== 48
  )
    return NaN;
  let ms = 0;
  if (length > 22) {
    // A fraction of 1–6 digits: `.1` is 100 ms, `.123456` is 123 ms (microseconds are cut).
    const fraction = length - 23;
    if (text.charCodeAt(19) !== 46 || fraction < 1 || fraction > 6) return NaN;
    const value = digits(text, 20, length - 3);
    if (value < 0) return NaN;
    ms = Math.floor((value * 10 ** (6 - fraction)) / 1000);
  }
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 7);
  const day = digits(text, 8, 10);
  const hour = digits(text, 11, 13);
  const minute = digits(text, 14, 16);
  const second = digits(text, 17, 19);
  // Date.UTC reads years 0–99 as 1900–1999: those go to the driver's parser, which does not.
  if (year < 100 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return NaN;
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}

/**
 * A zoned timestamp as an instant; `infinity` and dates BC stay text (no JS Date holds them). The
 * session's UTC form is read directly (node-postgres's general parser measured ~4.5 µs a value, most
 * of a timestamp column's cost); anything else goes through that parser.
 */
function instant(text: string): Date | string {
  const ms = utcMillis(text);
  if (!Number.isNaN(ms)) return new Date(ms);
  if (/^-?infinity$/.test(text) || text.endsWith(' BC')) return text;
  const parsed = timestampTz(text);
  return parsed instanceof Date && !Number.isNaN(parsed.getTime()) ? parsed : text;
}

const wallClock = (text: string) => text.replace(' ', 'T');
const text = (value: string) => value;

/** Element type → parser; the array types below parse their elements with these. */
const SCALARS: Record<number, Parser> = {
  16: (value) => value === 't' || value === 'true', // bool
  20: integer, // int8
  21: Number, // int2
  23: Number, // int4
  26: Number, // oid
  700: float, // float4
  701: float, // float8
  1700: numeric,
  114: (value) => JSON.parse(value) as unknown, // json
  3802: (value) => JSON.parse(value) as unknown, // jsonb
  1184: instant, // timestamptz
  1114: wallClock, // timestamp
  1082: text, // date
  17: (value) => {
    // bytea: a Buffer (base64 in JSON)
    const { types } = loadedPostgresDriver().pg;
    return (types.getTypeParser(types.builtins.BYTEA) as Parser)(value);
  },
};

/** Array type → its element type. */
const ARRAYS: Record<number, number> = {
  1000: 16,
  1016: 20,
  1005: 21,
  1007: 23,
  1028: 26,
  1021: 700,
  1022: 701,
  1231: 1700,
  199: 114,
  3807: 3802,
  1185: 1184,
  1115: 1114,
  1182: 1082,
  1001: 17,
};

/** Array types of text-like elements (text, varchar, char, uuid, time, interval, …): elements as text. */
const TEXT_ARRAYS = new Set([1009, 1015, 1014, 2951, 1183, 1270, 1187, 1002, 1041, 651, 3221]);

/** How a value of the type `oid` is read from its text. */
export function parserFor(oid: number): Parser {
  const scalar = SCALARS[oid];
  if (scalar !== undefined) return scalar;
  const element = ARRAYS[oid];
  if (element !== undefined) {
    const parse = SCALARS[element] as Parser;
    return (value) => parseArray(value, parse);
  }
  if (TEXT_ARRAYS.has(oid)) return (value) => parseArray(value, text);
  return text;
}

/** The type parsers every query of the source uses (the text format only; binary is never asked for). */
export const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number) => parserFor(oid)) as pg.CustomTypesConfig['getTypeParser'],
};

/** Type names by OID, for `describe()` and for the casts of window parameters. */
const TYPE_NAMES: Record<number, string> = {
  16: 'boolean',
  17: 'bytea',
  18: 'char',
  20: 'bigint',
  21: 'smallint',
  23: 'integer',
  25: 'text',
  26: 'oid',
  114: 'json',
  3802: 'jsonb',
  700: 'real',
  701: 'double precision',
  1042: 'character',
  1043: 'character varying',
  1082: 'date',
  1083: 'time',
  1114: 'timestamp',
  1184: 'timestamptz',
  1186: 'interval',
  1266: 'timetz',
  1700: 'numeric',
  2950: 'uuid',
};

export function typeName(oid: number): string {
  const name = TYPE_NAMES[oid];
  if (name !== undefined) return name;
  const element = ARRAYS[oid];
  if (element !== undefined) return `${TYPE_NAMES[element] ?? `oid ${element}`}[]`;
  return `oid ${oid}`;
}

/** What a column of this type lets the read window do with it (see window.ts). */
export function columnKind(oid: number): ColumnKind {
  switch (oid) {
    case 1114:
    case 1184:
      return 'timestamp';
    case 1082:
      return 'date';
    case 20:
    case 21:
    case 23:
    case 700:
    case 701:
    case 1700:
      return 'number';
    case 25:
    case 1042:
    case 1043:
      return 'text';
    case 16:
    case 1083:
    case 2950:
      return 'orderable';
    default:
      return 'unorderable';
  }
}
