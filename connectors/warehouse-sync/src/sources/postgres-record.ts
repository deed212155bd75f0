/**
 * A row read as one text value: PostgreSQL prints `cast(row(a, b, …) as text)` as a record literal
 * `(a,b,…)` in which each value is exactly the text the column alone would be sent as (the same
 * output function of its type); a NULL is nothing at all, and a value that is empty or holds `"`,
 * `\`, `(`, `)`, `,` or white space is in double quotes, with each `"` and `\` in it doubled.
 * The driver then makes one string per row instead of one per column, which is most of what it
 * costs to read a row.
 */

import { parserFor, type Parser } from './postgres-values.js';

const COMMA = 44;
const QUOTE = 34;
const BACKSLASH = 92;

function malformed(text: string, count: number): Error {
  const shown = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  return new Error(`a row read as a record is not a record of ${count} values: ${shown}`);
}

/**
 * The quoted value starting at `text[start]` (its opening quote) when the row holds a backslash:
 * read a character at a time. Returns the value and the index after its closing quote.
 */
function escapedValue(text: string, start: number, count: number): [string, number] {
  let value = '';
  let i = start + 1;
  for (;;) {
    const c = text.charCodeAt(i);
    if (Number.isNaN(c)) throw malformed(text, count);
    if (c === BACKSLASH) {
      value += text[i + 1] ?? '';
      i += 2;
    } else if (c === QUOTE) {
      if (text.charCodeAt(i + 1) !== QUOTE) return [value, i + 1];
      value += '"';
      i += 2;
    } else {
      value += text[i];
      i++;
    }
  }
}

/** The `count` values of a record literal as their texts, NULL as null. Throws on anything else. */
export function recordValues(text: string, count: number): Array<string | null> {
  const values = new Array<string | null>(count);
  // The closing parenthesis; a quoted value never reaches it (its own closing quote comes first).
  const end = text.length - 1;
  if (text.charCodeAt(0) !== 40 || text.charCodeAt(end) !== 41) throw malformed(text, count);
  // Only a quoted value can hold a backslash; without one, quoted values are cut out in pieces.
  const escaped = text.indexOf('\\') !== -1;
  let i = 1;
  for (let n = 0; n < count; n++) {
    if (n > 0) {
      if (text.charCodeAt(i) !== COMMA) throw malformed(text, count);
      i++;
    }
    const c = text.charCodeAt(i);
    if (c === COMMA || i === end) {
      values[n] = null;
    } else if (c !== QUOTE) {
      // Unquoted: holds no comma, so it ends at the next one (or at the record's end).
      let next = text.indexOf(',', i);
      if (next === -1 || next > end) next = end;
      values[n] = text.slice(i, next);
      i = next;
    } else if (escaped) {
      const [value, after] = escapedValue(text, i, count);
      values[n] = value;
      i = after;
    } else {
      let value = '';
      let from = i + 1;
      for (;;) {
        const quote = text.indexOf('"', from);
        if (quote === -1 || quote >= end) throw malformed(text, count);
        if (text.charCodeAt(quote + 1) === QUOTE) {
          value += text.slice(from, quote + 1); // a doubled quote: one of it is the value's
          from = quote + 2;
          continue;
        }
        value += text.slice(from, quote);
        i = quote + 1;
        break;
      }
      values[n] = value;
    }
  }
  if (i !== end) throw malformed(text, count);
  return values;
}

/**
 * Reads a row from its record literal: the values of columns of types `oids`, each as the driver's
 * type parsers would read it (see postgres-values.ts), then `texts` values as text (positions).
 */
export function recordReader(oids: readonly number[], texts: number): (text: string) => unknown[] {
  const parsers = oids.map(parserFor);
  const count = oids.length + texts;
  return (text) => {
    const values: unknown[] = recordValues(text, count);
    for (let i = 0; i < parsers.length; i++) {
      const value = values[i];
      if (value !== null) values[i] = (parsers[i] as Parser)(value as string);
    }
    return values;
  };
}
