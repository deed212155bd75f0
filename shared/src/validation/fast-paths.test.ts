import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventViolations, INVALID_IDS, isInvalidId, isValidInsertId, validateEvent } from './index.js';

const NOW = Date.UTC(2026, 0, 1);
const base = { time: 1763800000, $insert_id: 'abc-1', $device_id: 'D1' };

/** Characters that exercise the shortcuts: every printable ASCII, whitespace, surrogates, Turkish I. */
const tricky = fc.oneof(
  fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  fc.constantFrom(' ', '\t', '\n', '\u00a0', '\u2028', '\ufeff', '\ud800', '\udc00', '😀', 'İ', 'K'),
);
const idLike = fc.oneof(
  fc.constantFrom(...INVALID_IDS),
  fc.tuple(fc.constantFrom(...INVALID_IDS), fc.array(tricky, { maxLength: 2 })).map(([id, pad]) => {
    const edge = pad.join('');
    return `${edge}${id.toUpperCase()}${edge}`;
  }),
  fc.array(tricky, { maxLength: 12 }).map((chars) => chars.join('')),
  // Same length and edges as an invalid ID, or lower-casing into one (Kelvin sign K, dotted İ).
  fc.constantFrom(
    'u123450',
    'U12345n',
    'UNKNOWN',
    'un\u212Anown',
    'UN\u212ANOWN',
    '\u212Anown',
    'n\u0130l',
    'A1on',
  ),
  fc.string({ maxLength: 40 }),
);

describe('ID shortcuts agree with the plain definitions', () => {
  it('isInvalidId is "on the list once trimmed and lower-cased"', () => {
    fc.assert(
      fc.property(idLike, (id) => {
        expect(isInvalidId(id)).toBe(INVALID_IDS.has(id.trim().toLowerCase()));
      }),
      { numRuns: 5000 },
    );
  });

  it('isValidInsertId is /^[A-Za-z0-9-]{1,36}$/ and not an invalid ID', () => {
    const insertIdLike = fc.oneof(
      idLike,
      fc.stringMatching(/^[A-Za-z0-9-]{0,38}$/),
      fc.constantFrom('a'.repeat(36), 'a'.repeat(37), '@', '[', '`', '{', '/', ':', 'a\n'),
    );
    fc.assert(
      fc.property(insertIdLike, (id) => {
        const expected = /^[A-Za-z0-9-]{1,36}$/.test(id) && !INVALID_IDS.has(id.trim().toLowerCase());
        expect(isValidInsertId(id)).toBe(expected);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('flat properties take a shortcut that reports the same things', () => {
  it.each([
    ['a lone surrogate in a short value', { name: 'bad \ud800' }, 'properties.name', 'UTF-8'],
    ['a lone surrogate in a long value', { name: `${'x'.repeat(40)}\udc00` }, 'properties.name', 'UTF-8'],
    ['a lone surrogate in a key', { ['k\ud800']: 1 }, 'properties.k\ud800', 'UTF-8'],
    ['a lone surrogate in the event name', {}, 'event', 'UTF-8', 'Page \ud800'],
  ])('rejects %s', (_label, extra, field, words, name = 'A') => {
    const result = validateEvent(
      { event: name, properties: { ...base, ...extra } },
      { mode: 'simplified', nowMs: NOW },
    );
    expect(result.ok ? [] : result.violations).toEqual([{ field, message: expect.stringContaining(words) }]);
  });

  it('checks a key in a place where a clean key was seen before', () => {
    const options = { mode: 'simplified' as const, nowMs: NOW };
    expect(validateEvent({ event: 'A', properties: { ...base, plan: 1 } }, options).ok).toBe(true);
    const result = validateEvent({ event: 'A', properties: { ...base, ['pl\ud800']: 1 } }, options);
    expect(result.ok ? [] : result.violations.map((v) => v.field)).toEqual(['properties.pl\ud800']);
    expect(validateEvent({ event: 'A', properties: { ...base, plan: 1 } }, options).ok).toBe(true);
  });

  it('warns from 256 characters on, in values and keys, and accepts surrogate pairs', () => {
    const longKey = 'k'.repeat(256);
    const result = validateEvent(
      {
        event: 'A',
        properties: { ...base, fits: 'x'.repeat(255), long: 'y'.repeat(256), [longKey]: 1, emoji: '😀' },
      },
      { mode: 'simplified', nowMs: NOW },
    );
    expect(result).toEqual({
      ok: true,
      warnings: [
        { field: 'properties.long', message: expect.stringContaining('256 characters') },
        { field: `properties.${longKey}`, message: expect.stringContaining('256 characters') },
      ],
    });
  });

  it('still counts the bytes of flat properties towards the 1 MB event limit', () => {
    // \u0001 takes 6 bytes in JSON, as many as the size bound assumes, so the sums are exact.
    const control = (n: number) => '\u0001'.repeat(n);
    const props: Record<string, unknown> = { ...base };
    for (let i = 0; i < 100; i++) props[`long${i}`] = control(1600); // ~961 kB, the slow path
    const options = { mode: 'simplified' as const, nowMs: NOW };
    expect(validateEvent({ event: 'A', properties: props }, options).ok).toBe(true);
    for (let i = 0; i < 60; i++) props[`flat${i}`] = control(200); // ~72 kB more, the shortcut
    const result = validateEvent({ event: 'A', properties: props }, options);
    expect(result.ok ? [] : result.violations.map((v) => v.field)).toEqual(['']);
  });
});

describe('eventViolations', () => {
  const value = fc.oneof(
    fc.string({ maxLength: 8 }),
    fc.constantFrom('\ud800', 'x'.repeat(300), 'null', '', ' U1 ', 'D1'),
    fc.integer(),
    fc.constantFrom(null, true, 1763800000, 86400, Number.NaN),
    fc.constant({ a: { b: { c: { d: 1 } } } }),
  );
  const event = fc.oneof(
    fc.record({
      event: fc.constantFrom('Page Viewed', '', ' ', '$identify', '$merge', 'Pag\ud800'),
      properties: fc.dictionary(
        fc.constantFrom('time', '$insert_id', '$device_id', '$user_id', 'distinct_id', 'plan', 'k\udc00'),
        value,
      ),
    }),
    fc.constantFrom(null, 'nope', [], { event: 'A' }, { event: 'A', properties: [] }),
  );

  it('reports exactly what validateEvent reports, in both modes', () => {
    fc.assert(
      fc.property(event, fc.constantFrom('simplified' as const, 'original' as const), (e, mode) => {
        const full = validateEvent(e, { mode, nowMs: NOW });
        expect(eventViolations(e, mode, NOW)).toEqual(full.ok ? undefined : full.violations);
      }),
      { numRuns: 2000 },
    );
  });

  it('hands each caller its own array, and a call that throws leaves nothing behind', () => {
    const first = eventViolations({ event: 'A', properties: { ...base, time: 'x' } }, 'simplified', NOW);
    const second = eventViolations(
      { event: 'A', properties: { ...base, $device_id: 'null' } },
      'simplified',
      NOW,
    );
    expect(first?.map((v) => v.field)).toEqual(['properties.time']);
    expect(second?.map((v) => v.field)).toEqual(['properties.$device_id']);
    // A BigInt time is reported like any other value that is not a number, never thrown.
    expect(
      eventViolations({ event: '', properties: { ...base, time: 10n } }, 'simplified', NOW)?.map(
        (v) => v.field,
      ),
    ).toEqual(['event', 'properties.time']);
    // The blank name is reported, then a property getter throws: the next event must not inherit
    // the first violation.
    const throwing = {
      ...base,
      get time(): number {
        throw new TypeError('unreadable');
      },
    };
    expect(() => eventViolations({ event: '', properties: throwing }, 'simplified', NOW)).toThrow(TypeError);
    expect(eventViolations({ event: 'A', properties: base }, 'simplified', NOW)).toBeUndefined();
  });
});
