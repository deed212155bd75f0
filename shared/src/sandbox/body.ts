import type { IncomingMessage } from 'node:http';
import { createGunzip } from 'node:zlib';

export class BodyError extends Error {
  constructor(
    readonly status: 400 | 413,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Bytes gunzipped per step. Each step is a round trip to libuv's thread pool and a chunk handed
 * back to this thread; zlib's default of 16 KB makes dozens of them for one batch of events.
 */
const GUNZIP_CHUNK_BYTES = 256 * 1024;

const tooLarge = (maxBytes: number) =>
  new BodyError(413, `request too large: the body is over ${maxBytes} bytes; split it and send the parts`);

/**
 * The request body, gunzipped when sent with `Content-Encoding: gzip`. The limit holds while the body
 * arrives, for the bytes sent and for the bytes they decompress to: past it nothing more is kept
 * (the rest is read and thrown away, so the client still gets its 413), and a declared
 * Content-Length over it keeps nothing at all. Memory stays within `maxBytes` for any upload.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const gzip = /\bgzip\b/i.test(req.headers['content-encoding'] ?? '');
    const chunks: Buffer[] = [];
    let kept = 0;
    let received = 0;
    let failure: BodyError | undefined;
    let settled = false;
    const gunzip = gzip ? createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES }) : undefined;

    const fail = (error: BodyError) => {
      if (failure !== undefined) return;
      failure = error;
      chunks.length = 0;
      gunzip?.destroy();
    };
    const keep = (chunk: Buffer) => {
      if (failure !== undefined) return;
      kept += chunk.length;
      if (kept > maxBytes) fail(tooLarge(maxBytes));
      else chunks.push(chunk);
    };
    const finish = () => {
      if (settled) return;
      settled = true;
      if (failure !== undefined) reject(failure);
      else resolve(Buffer.concat(chunks, kept));
    };

    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) fail(tooLarge(maxBytes));
    gunzip?.on('data', keep);
    gunzip?.on('error', () =>
      fail(new BodyError(400, 'the body is not valid gzip (Content-Encoding: gzip)')),
    );
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes) fail(tooLarge(maxBytes));
      if (failure !== undefined) return;
      if (gunzip !== undefined) gunzip.write(chunk);
      else keep(chunk);
    });
    req.on('end', () => {
      if (gunzip === undefined || failure !== undefined) return finish();
      gunzip.once('end', finish);
      gunzip.once('close', finish);
      gunzip.end();
    });
    req.on('error', () => {
      fail(new BodyError(400, 'the request body was cut off'));
      finish();
    });
  });
}

/** Reads the rest of a request and keeps none of it, so an early answer still reaches the client. */
export function drain(req: IncomingMessage): Promise<void> {
  if (req.readableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    req.on('end', resolve);
    req.on('error', () => resolve());
    req.on('close', () => resolve());
    req.resume();
  });
}
