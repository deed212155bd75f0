import { SingleBar } from 'cli-progress';

export interface ProgressLine<Values extends Record<string, number>> {
  update(count: number, values: Values): void;
  stop(): void;
}

/**
 * A live status line on a terminal, e.g. `{value} rows read | {delivered} delivered`. Nothing is
 * shown when `stream` is not a terminal (logs, pipes, schedules), so reports stay clean there.
 */
export function progressLine<Values extends Record<string, number>>(
  format: string,
  initial: Values,
  stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr,
): ProgressLine<Values> | undefined {
  if (stream.isTTY !== true) return undefined;
  const bar = new SingleBar({ format, stream: stream as NodeJS.WriteStream, clearOnComplete: true });
  bar.start(0, 0, initial);
  return {
    update(count, values) {
      bar.setTotal(count);
      bar.update(count, values);
    },
    stop: () => bar.stop(),
  };
}
