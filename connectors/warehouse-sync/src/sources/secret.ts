import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * A credential that never prints itself: string conversion, JSON and `util.inspect` show
 * `[redacted]`, so logging an options object cannot leak it. Only `reveal()` gives the value.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
