import { readFile } from 'node:fs/promises';

/** Where a bad line or document was found, for error messages. */
export class InputError extends Error {
  constructor(source: string, where: string, problem: string) {
    super(`${source}${where}: ${problem}`);
    this.name = 'InputError';
  }
}

async function readAll(path: string | undefined): Promise<{ text: string; source: string }> {
  if (path === undefined || path === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return { text: Buffer.concat(chunks).toString('utf8'), source: 'standard input' };
  }
  try {
    return { text: await readFile(path, 'utf8'), source: path };
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new InputError(path, '', `cannot read it (${reason})`);
  }
}

/**
 * Events from a JSON array or NDJSON (one JSON value a line; blank lines skipped), detected from
 * the first non-blank character. Errors name the source and line.
 */
export async function readEvents(path: string | undefined): Promise<unknown[]> {
  const { text, source } = await readAll(path);
  const trimmed = text.trimStart();
  if (trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new InputError(source, '', `not a valid JSON array (${(error as Error).message})`);
    }
    if (!Array.isArray(parsed)) throw new InputError(source, '', 'expected a JSON array of events');
    return parsed;
  }
  const events: unknown[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '') continue;
    try {
      events.push(JSON.parse(line));
    } catch (error) {
      throw new InputError(
        source,
        `, line ${i + 1}`,
        `not valid JSON (${(error as Error).message}); expected one event per line (NDJSON) or a JSON array`,
      );
    }
  }
  return events;
}
