import type { IncomingMessage } from 'node:http';
import { createGunzip } from 'node:zlib';

/** Segment's HTTP tracking API limits: 32 KB per call, 500 KB per batch request. */
export const CALL_LIMIT_BYTES = 32 * 1024;
export const BATCH_LIMIT_BYTES = 500 * 1024;

export class BodyError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'BodyError';
  }
}

/**
 * The request body's bytes, gunzipped when `Content-Encoding: gzip`. Stops reading as soon as the
 * (decompressed) body passes `limit`, so an oversized or gzip-bomb body costs no more than that.
 */
export async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const encoding = (request.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding !== 'identity' && encoding !== 'gzip')
    throw new BodyError(`Content-Encoding ${encoding} is not supported; send identity or gzip`, 400);
  const source = encoding === 'gzip' ? request.pipe(createGunzip()) : request;
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) {
        request.resume();
        throw new BodyError(`Exceeded payload limit: the body is larger than ${limit / 1024} KB`, 400);
      }
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof BodyError) throw error;
    throw new BodyError(
      `the body could not be read (${(error as Error).message}); check Content-Encoding`,
      400,
    );
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
}
