import type { Row } from './source.js';

/** Makes a row object from the first `names.length` values of a driver's value array. */
export type RowBuilder = (values: readonly unknown[]) => Row;

/**
 * A row builder for these column names: one object literal with the names as constant keys, made
 * once per statement. Adding properties one by one under names known only at run time makes V8 look
 * up every store, many times slower than a literal, which gets the object's final shape at once.
 * It makes the same object the loop would: own properties in the order of `names` (integer-like
 * names first, as in any object), the last value of a repeated name, and only computed keys
 * (`["__proto__"]` makes an own property, never sets the prototype). Names are embedded as JSON
 * string literals, which JavaScript reads back as exactly the same strings.
 */
export function rowBuilder(names: readonly string[]): RowBuilder {
  const fields = names.map((name, i) => `[${JSON.stringify(name)}]: values[${i}]`);
  // The body holds only JSON string literals and indexes (see above).
  return new Function('values', `return { ${fields.join(', ')} };`) as RowBuilder;
}
