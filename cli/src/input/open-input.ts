import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

const GZIP_MAGIC = [0x1f, 0x8b] as const;

/** True when the file is gzip: by its name (`.gz`) or, whatever its name, by its first two bytes. */
export async function isGzip(path: string): Promise<boolean> {
  if (path.toLowerCase().endsWith('.gz')) return true;
  const file = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await file.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
  } finally {
    await file.close();
  }
}

/** The bytes of a file, gunzipped when it is gzip (see `isGzip`). */
export async function openInput(path: string, highWaterMark = 64 * 1024): Promise<Readable> {
  const raw = createReadStream(path, { highWaterMark });
  if (!(await isGzip(path))) return raw;
  const gunzip = createGunzip({ chunkSize: highWaterMark });
  // A read error of the file reaches the reader through the gunzip stream.
  raw.on('error', (error) => gunzip.destroy(error));
  return raw.pipe(gunzip);
}

const BOM = [0xef, 0xbb, 0xbf] as const;

/** The length of a UTF-8 byte order mark at the start of `bytes` (0 or 3). */
export function bomLength(bytes: Uint8Array): number {
  return bytes.length >= 3 && bytes[0] === BOM[0] && bytes[1] === BOM[1] && bytes[2] === BOM[2] ? 3 : 0;
}

/** A byte stream without its leading UTF-8 byte order mark, for parsers that would choke on it. */
export async function* withoutBom(input: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let head: Buffer | undefined = Buffer.alloc(0);
  for await (const chunk of input) {
    if (head === undefined) {
      yield chunk;
      continue;
    }
    head = Buffer.concat([head, chunk]);
    if (head.length < 3) continue;
    yield head.subarray(bomLength(head));
    head = undefined;
  }
  if (head !== undefined && head.length > 0) yield head.subarray(bomLength(head));
}
