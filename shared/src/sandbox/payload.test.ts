import { describe, expect, it } from 'vitest';
import { BodyError } from './body.js';
import { recordsFromData, recordsFromJson, requestRecords } from './payload.js';

const one = { event: 'E', properties: { token: 't', é: 'ü' } };
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64');

describe('recordsFromData', () => {
  it('reads base64 (standard or URL-safe, + turned into a space) and JSON, one record or many', () => {
    expect(recordsFromData(b64(one))).toEqual([one]);
    expect(recordsFromData(b64([one, one]))).toEqual([one, one]);
    expect(recordsFromData(JSON.stringify(one))).toEqual([one]);
    expect(recordsFromData(` ${JSON.stringify([one])} `)).toEqual([one]);
    const standard = b64({ s: '>>>???' });
    expect(standard).toMatch(/[+/]/);
    expect(recordsFromData(standard.replace(/\+/g, '-').replace(/\//g, '_'))).toEqual([{ s: '>>>???' }]);
    expect(recordsFromData(standard.replace(/\+/g, ' '))).toEqual([{ s: '>>>???' }]);
  });

  it('says what is wrong with a value that is neither', () => {
    expect(() => recordsFromData('%%%')).toThrow(/neither JSON nor base64 of JSON/);
    expect(() => recordsFromData(Buffer.from('{nope').toString('base64'))).toThrow(/not valid JSON/);
    expect(() => recordsFromData('')).toThrow(BodyError);
  });
});

describe('recordsFromJson', () => {
  it('reads an array, one object (even over several lines) and NDJSON, naming a bad line', () => {
    expect(recordsFromJson(JSON.stringify([one]))).toEqual([one]);
    expect(recordsFromJson(JSON.stringify(one, null, 2))).toEqual([one]);
    expect(recordsFromJson(`${JSON.stringify(one)}\n\n${JSON.stringify(one)}\n`)).toEqual([one, one]);
    expect(() => recordsFromJson(`${JSON.stringify(one)}\n{bad`)).toThrow(/line 2 of the body/);
  });
});

describe('requestRecords', () => {
  const q = (text = '') => new URLSearchParams(text);

  it('takes data= from the query of a GET, with the other parameters', () => {
    const input = requestRecords(q(`data=${encodeURIComponent(b64(one))}&ip=0&verbose=1`), '', undefined);
    expect(input).toMatchObject({ records: [one], via: 'data' });
    expect(input.params.get('verbose')).toBe('1');
  });

  it('reads form bodies sent as form, as text/plain (sendBeacon) or without a type', () => {
    const body = `data=${encodeURIComponent(b64([one, one]))}`;
    for (const type of ['application/x-www-form-urlencoded', 'text/plain;charset=UTF-8', undefined]) {
      expect(requestRecords(q('verbose=1'), body, type)).toMatchObject({ records: [one, one], via: 'data' });
    }
    expect(
      requestRecords(q(), `data=${encodeURIComponent(JSON.stringify(one))}&verbose=1`, undefined).params.get(
        'verbose',
      ),
    ).toBe('1');
  });

  it('reads JSON bodies as JSON, and refuses a form without data=', () => {
    expect(requestRecords(q(), JSON.stringify([one]), 'application/json')).toMatchObject({
      records: [one],
      via: 'json',
    });
    expect(() => requestRecords(q(), 'verbose=1', 'application/x-www-form-urlencoded')).toThrow(
      /no data= field/,
    );
  });
});
