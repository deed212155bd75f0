import { beforeAll, describe, expect, it } from 'vitest';
import { loadPostgresDriver } from '../src/sources/postgres-driver.js';
import { typeParsers } from '../src/sources/postgres-values.js';

const TIMESTAMPTZ = 1184;
const parse = (text: string) =>
  (typeParsers.getTypeParser(TIMESTAMPTZ, 'text') as (t: string) => unknown)(text);

beforeAll(async () => {
  await loadPostgresDriver();
});

describe('timestamptz values as the session (UTC, ISO) prints them', () => {
  it('reads each to the instant node-postgres’s own parser reads, whatever its fraction', async () => {
    const { pg } = await loadPostgresDriver();
    const driver = pg.types.getTypeParser(TIMESTAMPTZ) as (text: string) => Date;
    const texts = [
      '2025-11-22 08:00:00+00',
      '2025-11-22 08:00:00.1+00',
      '2025-11-22 08:00:00.12+00',
      '2025-11-22 08:00:00.123+00',
      '2025-11-22 08:00:00.1234+00',
      '2025-11-22 08:00:00.12345+00',
      '2025-11-22 08:00:00.999999+00',
      '1970-01-01 00:00:00+00',
      '1969-12-31 23:59:59.5+00',
      '2024-02-29 23:59:59.000001+00',
      '1000-01-01 00:00:00+00',
      '9999-12-31 23:59:59.999999+00',
      '0150-06-01 12:00:00+00',
    ];
    for (const text of texts)
      expect((parse(text) as Date).toISOString(), text).toBe(driver(text).toISOString());
  });

  it('reads years before 100 as themselves, not as 19xx', () => {
    expect((parse('0099-03-01 00:00:00+00') as Date).getUTCFullYear()).toBe(99);
    expect((parse('0001-01-01 00:00:00+00') as Date).toISOString()).toBe('0001-01-01T00:00:00.000Z');
  });

  it('keeps what no Date holds as its text, and reads another offset through the driver', () => {
    expect(parse('infinity')).toBe('infinity');
    expect(parse('-infinity')).toBe('-infinity');
    expect(parse('0044-03-15 12:00:00+00 BC')).toBe('0044-03-15 12:00:00+00 BC');
    expect((parse('2025-11-22 10:00:00+02') as Date).toISOString()).toBe('2025-11-22T08:00:00.000Z');
    expect((parse('2025-11-22 08:00:00.1234567+00') as Date).toISOString()).toBe('2025-11-22T08:00:00.123Z');
  });
});
