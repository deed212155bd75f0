import { crc32 } from 'node:zlib';

/**
 * One log record on disk: `u32 length | u32 crc32(payload) | payload` (little-endian). A record
 * is valid only when all of its bytes are there and its checksum matches, so a write torn by a
 * crash or power loss is recognised at the first frame that fails and never read as data.
 */
export const FRAME_HEADER_BYTES = 8;
/** No record is larger (calls are ≤ 32 KB): a bigger length field is a torn or corrupt header. */
export const MAX_RECORD_BYTES = 1024 * 1024;

/**
 * Frames of `payloads` (UTF-8 text), back to back, in one buffer. `ends`, when given, receives the
 * offset just past each frame.
 */
export function encodeFrames(payloads: readonly string[], ends?: number[]): Buffer {
  let size = 0;
  for (const payload of payloads) size += FRAME_HEADER_BYTES + Buffer.byteLength(payload);
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const payload of payloads) {
    const length = out.write(payload, at + FRAME_HEADER_BYTES, 'utf8');
    out.writeUInt32LE(length, at);
    out.writeUInt32LE(crc32(out.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + length)), at + 4);
    at += FRAME_HEADER_BYTES + length;
    ends?.push(at);
  }
  return out;
}

export interface DecodedFrames {
  /** Payloads, each with the offset (relative to the buffer's start) just past its frame. */
  records: Array<{ text: string; end: number }>;
  /** Bytes of whole, valid frames read. */
  validBytes: number;
  /** Set when the bytes after `validBytes` are not an incomplete last frame but a bad one. */
  bad?: string;
}

/**
 * Reads whole frames from `buffer`. Stops at the first incomplete frame (more bytes may follow in
 * the file) or at the first frame whose length or checksum is wrong (`bad` says which).
 */
export function decodeFrames(buffer: Buffer): DecodedFrames {
  const records: Array<{ text: string; end: number }> = [];
  let at = 0;
  while (at + FRAME_HEADER_BYTES <= buffer.length) {
    const length = buffer.readUInt32LE(at);
    if (length > MAX_RECORD_BYTES) return { records, validBytes: at, bad: `a frame claims ${length} bytes` };
    const end = at + FRAME_HEADER_BYTES + length;
    if (end > buffer.length) break;
    const payload = buffer.subarray(at + FRAME_HEADER_BYTES, end);
    if (crc32(payload) !== buffer.readUInt32LE(at + 4))
      return { records, validBytes: at, bad: 'a frame’s checksum does not match its bytes' };
    records.push({ text: payload.toString('utf8'), end });
    at = end;
  }
  return { records, validBytes: at };
}
