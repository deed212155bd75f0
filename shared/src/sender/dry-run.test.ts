import { describe, expect, it } from 'vitest';
import { createDeadLetterList } from './dead-letter-file.js';
import { createDryRunSender } from './dry-run.js';

describe('createDryRunSender', () => {
  it('counts what would be sent, dead-letters rejections, and reports a rate in records per second', async () => {
    let clock = 1_000;
    const deadLetter = createDeadLetterList();
    const sender = createDryRunSender({ deadLetter, now: () => clock });
    const undelivered: unknown[] = [];
    sender.onUndelivered((original) => undelivered.push(original));
    for (let i = 0; i < 3; i++) {
      expect(
        sender.send({ endpoint: 'import', body: { event: 'E', properties: { time: 1 } } }),
      ).toBeUndefined();
    }
    sender.sendImportJson('{"event":"E","properties":{}}');
    await sender.reject({ row: 1 }, 'no event name', 'event');
    clock += 2_000;
    const report = await sender.flush();
    expect(report).toMatchObject({
      recordsIn: 5,
      delivered: 4,
      deadLettered: 1,
      requests: 0,
      elapsedMs: 2_000,
    });
    // 4 records in 2 s, not the count of records.
    expect(report.eventsPerSecond).toBe(2);
    expect(deadLetter.entries).toEqual([
      { record: { row: 1 }, stage: 'validation', reason: 'no event name', field: 'event' },
    ]);
    expect(undelivered).toEqual([{ row: 1 }]);
  });
});
