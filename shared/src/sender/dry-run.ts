import type { DeadLetterSink } from './dead-letter-file.js';
import { createDeadLetterAccounting } from './dead-letters.js';
import { emptyReport } from './report.js';
import type { Sender } from './sender.js';

/**
 * A sender for dry runs: it sends nothing. Every record handed to `send` or `sendImportJson` is
 * counted as delivered (it would have been sent), `reject` dead-letters as the real sender does,
 * and `flush` reports the elapsed time and the rate in records per second, like a real run.
 */
export function createDryRunSender(
  options: { deadLetter?: DeadLetterSink; now?: () => number } = {},
): Sender {
  const now = options.now ?? Date.now;
  const startedAt = now();
  const report = emptyReport();
  const accounting = createDeadLetterAccounting(report, options.deadLetter, []);
  const count = (): undefined => {
    report.recordsIn++;
    report.delivered++;
    return undefined;
  };
  return {
    report,
    send: count,
    sendImportJson: count,
    async reject(original, reason, field) {
      report.recordsIn++;
      await accounting.deadLetter([{ original }], { stage: 'validation', reason, field });
    },
    drain: async () => {},
    settled: async () => {},
    onUndelivered: (listener) => accounting.onUndelivered(listener),
    async flush() {
      report.elapsedMs = now() - startedAt;
      report.eventsPerSecond = report.elapsedMs > 0 ? (report.delivered * 1000) / report.elapsedMs : 0;
      return report;
    },
  };
}
