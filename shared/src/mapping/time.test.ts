import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseEventTime } from './time.js';

const NOW = Date.UTC(2026, 0, 1);
const INSTANT = Date.UTC(2025, 6, 1, 10, 0, 0); // 2025-07-01T10:00:00Z

function ms(value: unknown, timeZone?: string): number | string {
  const result = parseEventTime(value, { timeZone, nowMs: NOW });
  return result.ok ? result.ms : result.message;
}

describe('parseEventTime', () => {
  it('reads the same instant in every notation', () => {
    expect(ms('2025-07-01T10:00:00Z')).toBe(INSTANT);
    expect(ms('2025-07-01T12:00:00+02:00')).toBe(INSTANT);
    expect(ms('2025-07-01 06:00:00-0400')).toBe(INSTANT);
    expect(ms('2025-07-01 12:00:00', 'Europe/Berlin')).toBe(INSTANT);
    expect(ms('2025-07-01T06:00:00', 'America/New_York')).toBe(INSTANT);
    expect(ms(INSTANT / 1000)).toBe(INSTANT);
    expect(ms(INSTANT)).toBe(INSTANT);
    expect(ms(String(INSTANT / 1000))).toBe(INSTANT);
    expect(ms(BigInt(INSTANT))).toBe(INSTANT);
    expect(ms(new Date(INSTANT))).toBe(INSTANT);
  });

  it('refuses an invalid Date with a message instead of throwing, and names a Date out of range', () => {
    expect(ms(new Date(Number.NaN))).toBe('an invalid Date is not a time');
    expect(ms(new Date(Date.UTC(1960, 0, 1)))).toMatch(/^1960-01-01T00:00:00.000Z is before 1971-01-01/);
  });

  it('uses the zone offset in force on that date (DST)', () => {
    expect(ms('2025-01-15 12:00:00', 'Europe/Berlin')).toBe(Date.UTC(2025, 0, 15, 11));
    expect(ms('2025-07-15 12:00:00', 'Europe/Berlin')).toBe(Date.UTC(2025, 6, 15, 10));
  });

  it('keeps milliseconds', () => {
    expect(ms('2025-07-01T10:00:00.250Z')).toBe(INSTANT + 250);
    expect(ms('2025-07-01 10:00:00.5', 'UTC')).toBe(INSTANT + 500);
  });

  it('requires a zone for zone-less values, and a known one', () => {
    expect(ms('2025-07-01 10:00:00')).toMatch(/no time zone/);
    expect(ms('2025-07-01 10:00:00', 'Nowhere/Land')).toMatch(/unknown time zone "Nowhere\/Land"/);
  });

  it('accepts up to one hour ahead and rejects beyond', () => {
    expect(ms(NOW + 59 * 60_000)).toBe(NOW + 59 * 60_000);
    expect(ms(NOW + 61 * 60_000)).toMatch(/more than one hour in the future/);
    expect(ms('1970-12-31T23:59:59Z')).toMatch(/before 1971/);
  });

  it('explains what it received when it is not a time', () => {
    expect(ms(undefined)).toMatch(/got nothing/);
    expect(ms({})).toMatch(/got \{\}/);
    expect(ms('tomorrow')).toMatch(/"tomorrow" is not an ISO 8601 date-time/);
  });

  it('reads the canonical UTC form (toISOString) as Date.parse does, and any other text as before', () => {
    const instants = fc.integer({ min: Date.UTC(1000, 0, 1), max: Date.UTC(9999, 11, 31) });
    fc.assert(
      fc.property(instants, fc.boolean(), (at, withMillis) => {
        const iso = new Date(at).toISOString();
        const text = withMillis ? iso : `${iso.slice(0, 19)}Z`;
        const result = parseEventTime(text, { nowMs: Date.UTC(9999, 11, 31) });
        const expected = Date.parse(text);
        return expected < Date.UTC(1971, 0, 1) ? !result.ok : result.ok && result.ms === expected;
      }),
    );
    // Near misses go the general way and keep its verdicts.
    expect(ms('2025-02-29T10:00:00Z')).toMatch(/day 29 does not exist in 2025-02/);
    expect(ms('2024-02-29T10:00:00Z')).toBe(Date.UTC(2024, 1, 29, 10));
    expect(ms('2025-07-01T24:00:00Z')).toBe(Date.UTC(2025, 6, 2));
    expect(ms('2025-07-01T10:00:60Z')).toMatch(/second 60 does not exist/);
    expect(ms('2025-13-01T10:00:00Z')).toMatch(/month 13 does not exist/);
    expect(ms('2025-07-01T10:00:00.25Z')).toBe(INSTANT + 250);
    expect(ms('2025-07-01T10:00:0xZ')).toMatch(/not an ISO 8601 date-time/);
    expect(ms('+2025-07-01T10:00:00Z')).toMatch(/not/);
  });
});
