import { describe, expect, it } from 'vitest';
import { classifyStatus, readFailedRecords, readStatusReply, readStrictFailure } from './answers.js';

const strict400 = (failed_records: unknown[]) =>
  JSON.stringify({
    code: 400,
    error: 'some data points in the request failed validation',
    status: 'Bad Request',
    num_records_imported: 3 - failed_records.length,
    failed_records,
  });

const ids = ['id-0', 'id-1', 'id-2', 'id-3'];
const idAt = (i: number) => ids[i];

describe('classifyStatus', () => {
  it.each([
    [200, 'accepted'],
    [400, 'refused'],
    [404, 'refused'],
    [401, 'stop'],
    [403, 'stop'],
    [413, 'split'],
    [429, 'wait'],
    [500, 'retry'],
    [502, 'retry'],
    [503, 'retry'],
  ])('%i is %s', (status, expected) => {
    expect(classifyStatus(status)).toBe(expected);
  });
});

describe('readStrictFailure', () => {
  const shapes = {
    'index and $insert_id': (i: number) => ({
      index: i,
      $insert_id: ids[i],
      field: 'properties.time',
      message: 'bad time',
    }),
    '$insert_id only': (i: number) => ({ $insert_id: ids[i], field: 'properties.time', message: 'bad time' }),
    'insert_id only': (i: number) => ({ insert_id: ids[i], field: 'properties.time', message: 'bad time' }),
    'a plain string': (i: number) => ids[i],
  };
  for (const [shape, item] of Object.entries(shapes)) {
    it(`${shape}: fails exactly the named record, at every position`, () => {
      for (let failed = 0; failed < 4; failed++) {
        const answer = readStrictFailure(strict400([item(failed)]), 4, idAt);
        expect(answer.kind).toBe('partial');
        if (answer.kind !== 'partial') return;
        expect([...answer.failedAt.keys()]).toEqual([failed]);
        expect(answer.unattributed).toBe(0);
        expect(answer.failedAt.get(failed)?.message).toBe(
          shape === 'a plain string' ? 'failed validation' : 'bad time',
        );
      }
    });
  }

  it('reads insert IDs only when a failure carries no usable index', () => {
    const asked: number[] = [];
    const spy = (i: number) => (asked.push(i), ids[i]);
    readStrictFailure(strict400([{ index: 2, message: 'x' }]), 4, spy);
    expect(asked).toEqual([]);
    const answer = readStrictFailure(strict400([{ index: 9, $insert_id: 'id-1', message: 'x' }]), 4, spy);
    expect(answer.kind === 'partial' && [...answer.failedAt.keys()]).toEqual([1]);
    expect(asked).toEqual([0, 1, 2, 3]);
  });

  it('places failures naming one insert ID twice on the records sent with it, in order', () => {
    const same = (i: number) => (i < 2 ? 'dup' : `id-${i}`);
    const answer = readStrictFailure(strict400(['dup', 'dup']), 3, same);
    expect(answer.kind === 'partial' && [...answer.failedAt.keys()]).toEqual([0, 1]);
  });

  it('counts failures it cannot place apart, never more than the records not named', () => {
    const answer = readStrictFailure(
      strict400([{ field: 'event', message: 'bad' }, 'id-unknown', 'id-0', 'also-unknown']),
      2,
      idAt,
    );
    expect(answer).toEqual({
      kind: 'partial',
      failedAt: new Map([[0, { insertId: 'id-0', message: 'failed validation' }]]),
      unattributed: 1,
    });
  });

  it.each([
    ['not JSON', '<html>bad request</html>'],
    ['no failed_records', JSON.stringify({ code: 400, error: 'bad' })],
    ['an empty list', strict400([])],
    ['items of another shape', JSON.stringify({ failed_records: [42] })],
  ])('a 400 that names no record (%s) refuses the whole request', (_label, body) => {
    expect(readStrictFailure(body, 3, idAt)).toEqual({ kind: 'refused', reason: `HTTP 400: ${body}` });
  });

  it('readFailedRecords keeps field and message', () => {
    expect(
      readFailedRecords(strict400([{ index: 0, insert_id: 'a', field: 'event', message: 'm' }])),
    ).toEqual([{ index: 0, insertId: 'a', field: 'event', message: 'm' }]);
  });
});

describe('readStatusReply', () => {
  it.each([['1'], [' 1\n'], ['{"status":1,"error":null}'], ['{"status":"1"}'], ['{"status":"OK"}']])(
    '%j is accepted',
    (body) => {
      expect(readStatusReply(body)).toEqual({ ok: true });
    },
  );

  it.each([
    ['0', 'Mixpanel answered 0 (record refused)'],
    ['{"status":0,"error":"$distinct_id is missing"}', '$distinct_id is missing'],
    ['{"status":0}', 'Mixpanel answered {"status":0}'],
    ['<html>', 'unexpected answer: <html>'],
  ])('%j is a refusal: %s', (body, error) => {
    expect(readStatusReply(body)).toEqual({ ok: false, error });
  });
});
