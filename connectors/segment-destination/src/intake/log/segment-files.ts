import { open, writeFile, type FileHandle } from 'node:fs/promises';
import type { Logger } from '../logger.js';
import { decodeFrames } from './frames.js';

/** Segment files are named by their number, zero-padded so names sort as numbers do. */
export const SEGMENT_PATTERN = /^\d{12}\.seg$/;
export const segmentName = (id: number): string => `${String(id).padStart(12, '0')}.seg`;

/** Flushes a directory's entries (a created, renamed or deleted file) to disk. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Up to `length` bytes of a file from `position` (fewer at its end). */
export async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let read = 0;
  while (read < length) {
    const { bytesRead } = await handle.read(buffer, read, length - read, position + read);
    if (bytesRead === 0) break;
    read += bytesRead;
  }
  return buffer.subarray(0, read);
}

/**
 * Checks the frames of a segment from `from` (a frame boundary) to its end and cuts off whatever
 * follows the last valid frame: an incomplete frame is a write torn by a crash (it was never
 * acknowledged, since acknowledgement follows the flush); a frame with a wrong checksum is
 * corruption, and its bytes are kept beside the segment (`.corrupt`) for an operator.
 */
export async function scanSegment(
  path: string,
  from: number,
  logger: Logger,
  weigh: (text: string) => number,
): Promise<{ size: number; records: number }> {
  const handle = await open(path, 'r+');
  try {
    const { size: fileSize } = await handle.stat();
    const start = Math.min(from, fileSize);
    const buffer = await readAt(handle, start, fileSize - start);
    const decoded = decodeFrames(buffer);
    const size = start + decoded.validBytes;
    if (size < fileSize) {
      const dropped = fileSize - size;
      if (decoded.bad !== undefined) {
        await writeFile(`${path}.corrupt`, buffer.subarray(decoded.validBytes), { mode: 0o600 });
        logger.error('log segment has a corrupt frame; the bytes from it on are kept aside', {
          segment: path,
          offset: size,
          reason: decoded.bad,
          bytes: dropped,
          keptIn: `${path}.corrupt`,
        });
      } else {
        logger.warn('log segment ends in a torn write (never acknowledged); it is cut off', {
          segment: path,
          offset: size,
          bytes: dropped,
        });
      }
      await handle.truncate(size);
      await handle.datasync();
    }
    let records = 0;
    for (const record of decoded.records) records += weigh(record.text);
    return { size, records };
  } finally {
    await handle.close();
  }
}
