/** Where the launcher (cli/bin/idmerge.mjs) records the compiled entry file this process runs. */
export const ENTRY_KEY = Symbol.for('idmerge.entry');

/**
 * The file a worker thread starts to run this program again in a worker role: the compiled entry
 * the launcher loaded (so a worker never runs a newer build than its parent), else the compiled
 * file this process was started from. Undefined when the program runs from TypeScript sources
 * (under tsx), as tsx's loader does not reach worker threads on Node 20; the work then stays in
 * this thread.
 */
export function programFile(
  argv: readonly string[] = process.argv,
  launched: unknown = (globalThis as Record<symbol, unknown>)[ENTRY_KEY],
): string | undefined {
  if (typeof launched === 'string') return launched;
  const file = argv[1];
  return file !== undefined && /\.[cm]?js$/.test(file) ? file : undefined;
}
