import type { IncomingMessage } from 'node:http';
import { gunzipSync } from 'node:zlib';

export class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The request body, gunzipped when sent with `Content-Encoding: gzip`; over `maxBytes` is a 413. */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    chunks.push(chunk as Buffer);
  }
  let raw = Buffer.concat(chunks, size);
  if ((req.headers['content-encoding'] ?? '').includes('gzip')) {
    try {
      raw = gunzipSync(raw, { maxOutputLength: maxBytes + 1 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
        throw new BodyError(413, 'request too large');
      throw new BodyError(400, 'the body is not valid gzip');
    }
  }
  if (raw.length > maxBytes) throw new BodyError(413, 'request too large');
  return raw.toString('utf8');
}

/** Records from a JSON array, a single JSON object, or NDJSON. */
export function parseRecords(text: string): unknown[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  if (trimmed.startsWith('[')) {
    const parsed: unknown = JSON.parse(trimmed);
    if (!Array.isArray(parsed)) throw new BodyError(400, 'expected a JSON array');
    return parsed;
  }
  const lines = trimmed.split('\n').filter((line) => line.trim() !== '');
  return lines.map((line, i) => {
    try {
      return JSON.parse(line) as unknown;
    } catch {
      throw new BodyError(400, `line ${i + 1} is not valid JSON`);
    }
  });
}

/** `/track`, `/engage`, `/groups` bodies: `data=<json or base64 json>` form fields, or plain JSON. */
export function parseFormOrJson(text: string, contentType: string | undefined): unknown[] {
  if ((contentType ?? '').includes('application/x-www-form-urlencoded')) {
    const data = new URLSearchParams(text).get('data');
    if (data === null) throw new BodyError(400, 'missing the data= field');
    const json =
      data.trim().startsWith('[') || data.trim().startsWith('{')
        ? data
        : Buffer.from(data, 'base64').toString('utf8');
    const parsed: unknown = JSON.parse(json);
    return Array.isArray(parsed) ? parsed : [parsed];
  }
  const parsed = parseRecords(text);
  return parsed.length === 1 && Array.isArray(parsed[0]) ? (parsed[0] as unknown[]) : parsed;
}
