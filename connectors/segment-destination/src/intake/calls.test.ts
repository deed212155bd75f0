import { describe, expect, it } from 'vitest';
import { keyCheck, loadWriteKeys, redactor, secretForms } from './auth.js';
import { callsOfRequest, type StoredRecord } from './calls.js';
import { routeOf } from './routes.js';

const receivedAt = '2026-12-01T12:00:00.000Z';
const stored = (text: string) => JSON.parse(text) as StoredRecord;
const batch = (items: unknown[], invalidUtf8 = false) =>
  callsOfRequest('batch', { batch: items }, { receivedAt, invalidUtf8 });
const track = (extra: Record<string, unknown> = {}) => ({
  type: 'track',
  event: 'E',
  anonymousId: 'd',
  messageId: 'm',
  ...extra,
});

function deep(levels: number): unknown {
  return JSON.parse(`${'['.repeat(levels)}1${']'.repeat(levels)}`);
}

describe('the calls of a request', () => {
  it('refuses each poison call alone, with its reason, and accepts the others', () => {
    const result = batch([
      track({ messageId: 'ok-1' }),
      track({ timestamp: 1e20 }),
      track({ timestamp: -1e20 }),
      track({ properties: { list: deep(15_000) } }),
      track({ properties: { name: 'a\ud800b' } }),
      track({ properties: { ['k\udc00']: 1 } }),
      { type: 'bogus' },
      'not an object',
      track({ properties: { blob: 'x'.repeat(33 * 1024) } }),
      track({ messageId: 'ok-2' }),
    ]);
    expect(result.accepted).toBe(2);
    expect(result.refused.map((r) => r.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const reasons = result.refused.map((r) => r.reason);
    expect(reasons[0]).toMatch(/timestamp is not a valid time/);
    expect(reasons[1]).toMatch(/timestamp is not a valid time/);
    expect(reasons[2]).toMatch(/nested deeper than 64 levels/);
    expect(reasons[3]).toMatch(/properties\.name holds a lone UTF-16 surrogate/);
    expect(reasons[4]).toMatch(/a key of properties holds a lone UTF-16 surrogate/);
    expect(reasons[5]).toMatch(/type must be one of/);
    expect(reasons[6]).toMatch(/JSON object/);
    expect(reasons[7]).toMatch(/32 KB/);
    // Every call is a record: refused ones are kept with their reason, serializable however deep.
    expect(result.records).toHaveLength(10);
    const deepRecord = stored(result.records[3] as string);
    expect('refused' in deepRecord && deepRecord.refused).toMatch(/deeper/);
    expect(JSON.stringify(deepRecord)).toContain('nested deeper; cut');
  });

  it('refuses calls with bytes that were not UTF-8 (the decoder put U+FFFD in them)', () => {
    const result = batch([track({ event: 'bad \uFFFD byte' }), track()], true);
    expect(result.refused).toEqual([
      expect.objectContaining({ index: 0, reason: expect.stringMatching(/not valid UTF-8/) }),
    ]);
    // A body that was valid UTF-8 may hold U+FFFD as a character.
    expect(batch([track({ event: 'fine \uFFFD' })]).accepted).toBe(1);
  });

  it('gives each call without messageId its own stable ID, and keeps a given one', () => {
    const same = { type: 'track', event: 'E', anonymousId: 'd', timestamp: receivedAt };
    // Three objects, as JSON.parse makes of three alike calls in a request.
    const result = batch([
      { ...same },
      { ...same },
      { ...same },
      track({ messageId: 'given' }),
      { ...same, messageId: '' },
    ]);
    const ids = result.records.map((text) => {
      const record = stored(text);
      return 'call' in record && !('refused' in record)
        ? (record.call as { messageId: string }).messageId
        : '';
    });
    expect(new Set(ids.slice(0, 3)).size).toBe(3);
    expect(ids[3]).toBe('given');
    expect(ids[4]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('never stores a write key, sets receivedAt and takes the batch context', () => {
    const result = callsOfRequest(
      'batch',
      {
        batch: [track({ writeKey: 'secret-key' }), track({ context: { own: true } })],
        context: { ip: '1.2.3.4' },
        writeKey: 'secret-key',
      },
      { receivedAt, invalidUtf8: false },
    );
    expect(result.records.join()).not.toContain('secret-key');
    const [first, second] = result.records.map(stored);
    expect(first).toEqual({ call: expect.objectContaining({ receivedAt, context: { ip: '1.2.3.4' } }) });
    expect(second).toEqual({ call: expect.objectContaining({ context: { own: true } }) });
    const refused = batch([{ type: 'nope', writeKey: 'secret-key' }]);
    expect(refused.records.join()).not.toContain('secret-key');
  });

  it('a single-call path sets the type from the path', () => {
    const result = callsOfRequest(
      'page',
      { anonymousId: 'd', name: 'Home', type: 'track' },
      { receivedAt, invalidUtf8: false },
    );
    expect(stored(result.records[0] as string)).toEqual({ call: expect.objectContaining({ type: 'page' }) });
  });
});

describe('routes', () => {
  it('long and short paths, with and without /v1, with a trailing slash or a query', () => {
    for (const [path, kind] of [
      ['/v1/track', 'track'],
      ['/v1/t', 'track'],
      ['/t', 'track'],
      ['/v1/i', 'identify'],
      ['/p/', 'page'],
      ['/v1/s?x=1', 'screen'],
      ['/a', 'alias'],
      ['/v1/g', 'group'],
      ['/v1/b', 'batch'],
      ['/batch', 'batch'],
      ['/v1/import', 'batch'],
      ['/import', 'batch'],
    ] as const)
      expect(routeOf(path), path).toEqual({ kind });
    expect(routeOf('/v1/nothing')).toEqual({ unknown: '/v1/nothing' });
    expect(routeOf('/v1/t/extra')).toEqual({ unknown: '/v1/t/extra' });
    expect(routeOf('/healthz')).toEqual({ probe: 'healthz' });
  });
});

describe('write keys and secrets', () => {
  it('accepts any of several keys, and nothing else', () => {
    const check = keyCheck(['old-key', 'new-key']);
    expect(check('old-key')).toBe(true);
    expect(check('new-key')).toBe(true);
    expect(check('new-ke')).toBe(false);
    expect(check('')).toBe(false);
    expect(check(undefined)).toBe(false);
  });

  it('reads keys from SEGMENT_WRITE_KEY (several) and SEGMENT_WRITE_KEY_FILE', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const file = join(mkdtempSync('/tmp/idmerge-keys-'), 'keys');
    writeFileSync(file, 'from-file\nsecond\n');
    expect(loadWriteKeys({ SEGMENT_WRITE_KEY: 'a, b', SEGMENT_WRITE_KEY_FILE: file }, ['cli'])).toEqual([
      'cli',
      'a',
      'b',
      'from-file',
      'second',
    ]);
    expect(() => loadWriteKeys({ SEGMENT_WRITE_KEY_FILE: '/nonexistent/keys' }, [])).toThrow(
      /SEGMENT_WRITE_KEY_FILE/,
    );
  });

  it('redacts secrets and their Basic-auth encodings, short ones included', () => {
    const redact = redactor(secretForms(['wk', 'long-secret'], ['sa-user']));
    const basic = (text: string) => Buffer.from(text).toString('base64');
    const text = `Basic ${basic('wk:')} / ${basic('sa-user:long-secret')} / long-secret / ${basic('long-secret:')}`;
    const out = redact(text);
    expect(out).not.toContain(basic('wk:').replace(/=+$/, ''));
    expect(out).not.toContain('long-secret');
    expect(out).not.toContain(basic('sa-user:long-secret').replace(/=+$/, ''));
    expect(out).not.toContain(basic('long-secret:').replace(/=+$/, ''));
  });
});
