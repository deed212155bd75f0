import type { DeliveryReport, MixpanelEvent, Payload, Sender } from '@idmerge/shared';

/**
 * A sender that delivers nothing and keeps what a run hands over, in order, as payloads (events
 * handed over as JSON text are parsed back), and the reasons and originals of rejected rows.
 */
export function recordingSender(): Sender & {
  sent: Payload[];
  rejected: Array<{ original: unknown; reason: string }>;
} {
  const sent: Payload[] = [];
  const rejected: Array<{ original: unknown; reason: string }> = [];
  const report = { recordsIn: 0, delivered: 0, deadLettered: 0 } as unknown as DeliveryReport;
  return {
    sent,
    rejected,
    report,
    send: (payload) => {
      sent.push(payload);
      return undefined;
    },
    sendImportJson: (json) => {
      sent.push({ endpoint: 'import', body: JSON.parse(json) as MixpanelEvent });
      return undefined;
    },
    reject: async (original, reason) => {
      rejected.push({ original, reason });
    },
    drain: async () => {},
    settled: async () => {},
    flush: async () => report,
    onUndelivered: () => () => {},
  };
}
