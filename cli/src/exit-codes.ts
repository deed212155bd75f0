import type { DeliveryReport } from '@idmerge/shared/sender';

/**
 * The exit codes of every idmerge command (the README has the same table):
 * - 0 `ok`: the command did what it was asked; every record was delivered (a dry run: was valid);
 * - 1 `failed`: it could not finish: a wrong flag or setting, refused credentials, a file or
 *   source that failed;
 * - 2 `undelivered`: it finished, but some records were dead-lettered (see the dead-letter file).
 */
export const EXIT = { ok: 0, failed: 1, undelivered: 2 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The exit code of a delivery: stopped early → failed; any record dead-lettered → undelivered. */
export function deliveryExitCode(report: Pick<DeliveryReport, 'stoppedBecause' | 'deadLettered'>): ExitCode {
  if (report.stoppedBecause !== undefined) return EXIT.failed;
  return report.deadLettered > 0 ? EXIT.undelivered : EXIT.ok;
}
