/** One timed run of one tool against the sink. */
export interface ToolRun {
  seconds: number;
  peakRssMb: number;
  /** Unique `$insert_id`s the sink accepted during this run. */
  unique: number;
  /** Records the sink received more than once (same `$insert_id`). */
  duplicates: number;
  exitCode: number | null;
}

export interface Summary {
  events: number;
  ours: ToolRun[];
  peer: ToolRun[];
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export const eventsPerSecond = (events: number, run: ToolRun) => events / run.seconds;

/** A run counts only when the tool finished and exactly every event reached the sink once. */
export function isValidRun(events: number, run: ToolRun): boolean {
  return run.exitCode === 0 && run.unique === events;
}

/** A/B throughput per pair (run i of ours against run i of the peer). */
export function pairRatios(summary: Summary): number[] {
  return summary.ours.map((ours, i) => {
    const peer = summary.peer[i];
    return peer === undefined ? Number.NaN : peer.seconds / ours.seconds;
  });
}

/** The machine-readable last line of the harness: medians, and whether every run was valid. */
export function resultLine(summary: Summary): string {
  const { events, ours, peer } = summary;
  const round = (n: number, digits = 0) => Number(n.toFixed(digits));
  return JSON.stringify({
    events,
    ours_eps: round(median(ours.map((r) => eventsPerSecond(events, r)))),
    peer_eps: round(median(peer.map((r) => eventsPerSecond(events, r)))),
    ratio: round(median(pairRatios(summary)), 2),
    ours_rss_mb: round(median(ours.map((r) => r.peakRssMb))),
    peer_rss_mb: round(median(peer.map((r) => r.peakRssMb))),
    valid: [...ours, ...peer].every((run) => isValidRun(events, run)),
  });
}
