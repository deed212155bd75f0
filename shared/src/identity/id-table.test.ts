import { describe, expect, it } from 'vitest';
import { IdTable } from './id-table.js';

describe('IdTable', () => {
  it('names devices $device:<id> and finds them by that name, apart from a user with the raw ID', () => {
    const ids = new IdTable();
    const device = ids.internDevice('D1');
    const user = ids.intern('D1');
    expect(user).not.toBe(device);
    expect(ids.name(device)).toBe('$device:D1');
    expect(ids.name(user)).toBe('D1');
    expect(ids.lookup('$device:D1')).toBe(device);
    expect(ids.intern('$device:D1')).toBe(device);
    expect(ids.lookup('D1')).toBe(user);
    expect(ids.size).toBe(2);
  });

  it('lookup never creates an ID', () => {
    const ids = new IdTable();
    expect(ids.lookup('U9')).toBeUndefined();
    expect(ids.lookup('$device:D9')).toBeUndefined();
    expect(ids.size).toBe(0);
    expect(() => ids.name(0)).toThrow(RangeError);
  });
});
