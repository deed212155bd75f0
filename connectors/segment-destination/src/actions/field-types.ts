import type { InputField } from '../actions-core.js';

/**
 * Payload types derived from field definitions, so that each action's payload type cannot drift
 * from its fields: a field renamed or misspelt in the definitions, or in the code reading the
 * payload, fails to compile. (Segment's own destinations generate a `generated-types.ts` from the
 * fields with a CLI; deriving the type keeps one source instead of two kept in step.)
 *
 * What actions-core hands `perform` for a field: `string` for string-like types, `number` for
 * `number`/`integer`, `boolean`, an object for `object`; a list with `multiple: true`; `null`
 * allowed with `allowNull: true`; the key always present with `required: true` (actions-core
 * refuses the event before `perform` otherwise), else optional.
 */
type ValueOf<F extends InputField> = F['type'] extends 'number' | 'integer'
  ? number
  : F['type'] extends 'boolean'
    ? boolean
    : F['type'] extends 'object'
      ? Record<string, unknown>
      : string;

type Listed<F extends InputField, T> = F extends { multiple: true } ? T[] : T;
type Nullable<F extends InputField, T> = F extends { allowNull: true } ? T | null : T;
type FieldValue<F extends InputField> = Nullable<F, Listed<F, ValueOf<F>>>;

type RequiredKeys<Fields extends Record<string, InputField>> = {
  [K in keyof Fields]: Fields[K] extends { required: true } ? K : never;
}[keyof Fields];

/** The payload `perform` receives for these fields (see the rules above). */
export type PayloadOf<Fields extends Record<string, InputField>> = {
  [K in RequiredKeys<Fields>]: FieldValue<Fields[K]>;
} & {
  [K in Exclude<keyof Fields, RequiredKeys<Fields>>]?: FieldValue<Fields[K]>;
} extends infer P
  ? { [K in keyof P]: P[K] }
  : never;

/**
 * Field definitions with their literal types kept (`type: 'string'`, `required: true`), which
 * `PayloadOf` reads; checked against actions-core's InputField.
 */
export function defineFields<const Fields extends Record<string, InputField>>(fields: Fields): Fields {
  return fields;
}
