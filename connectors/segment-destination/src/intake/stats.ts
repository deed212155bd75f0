/** Counters of one collect process, shown at the stats endpoint. */
export class CollectStats {
  requests = 0;
  readonly answers: Record<string, number> = {};
  /** Calls written to the log (to deliver or, refused, to dead-letter). */
  accepted = 0;
  delivered = 0;
  deadLettered = 0;
  readonly refusedByReason: Record<string, number> = {};

  answered(status: number): void {
    this.requests++;
    this.answers[status] = (this.answers[status] ?? 0) + 1;
  }

  /** Counts a refusal under its stage and a short form of its reason (IDs and values cut off). */
  refused(stage: string, reason: string, count = 1): void {
    const key = `${stage}: ${reasonKey(reason)}`;
    this.refusedByReason[key] = (this.refusedByReason[key] ?? 0) + count;
  }
}

/** A reason without what varies between calls (quoted values, numbers), at most 100 characters. */
export function reasonKey(reason: string): string {
  const general = reason
    .replace(/: [^:;]*$/, '')
    .replace(/\d+/g, 'N')
    .trim();
  return general.length > 100 ? `${general.slice(0, 97)}...` : general;
}
