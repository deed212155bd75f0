import type { MappedPage, MappedRow } from '../map-page.js';

/**
 * A mapped page as it crosses from the reading thread to the run's thread. Copying a message
 * between threads costs per object: a page of rows each carrying a small object, an array and a
 * string cost more to copy (and to rebuild on the other side) than mapping them did. So the
 * common row, one that only sends /import events, travels as its key and a stretch of one block of
 * UTF-8 holding every event of the page; a row of any other kind (invalid, /engage payloads, a
 * profile hash) travels as it is. `unpackPage` gives back exactly the page `packPage` was given.
 *
 * The block is bytes, handed over (transferred, not copied) and outside the JavaScript heap: as one
 * string it would be a large object on the receiving thread's heap, kept alive by every event cut
 * from it until the page's last event is sent, and it outlives a minor collection there, so only a
 * full collection frees it. The events decoded from the bytes are small strings that die young.
 */
export interface PackedPage {
  /** The page's rows in order: the index into `events` stretches, or the row itself. */
  rows: number;
  /** Keys of the packed rows, in order. */
  keys: unknown[];
  /** How many events each packed row has, in order. */
  eventCounts: Uint32Array;
  /** Every event of the packed rows, one after another, as UTF-8 in a buffer of its own. */
  events: Uint8Array;
  /** Where each event ends in `events` (a byte offset). */
  eventEnds: Uint32Array;
  /** Rows that travel as they are, by their index in the page. */
  others: Array<[number, MappedRow]>;
  last?: MappedPage['last'];
  nullCursor?: number;
  duplicateKeys?: number;
}

function packable(row: MappedRow): row is Extract<MappedRow, { kind: 'send' }> {
  return row.kind === 'send' && row.payloads.length === 0 && row.hash === undefined;
}

export function packPage(page: MappedPage): PackedPage {
  const { rows } = page;
  const keys: unknown[] = [];
  const counts: number[] = [];
  const events: string[] = [];
  const others: Array<[number, MappedRow]> = [];
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as MappedRow;
    if (!packable(row)) {
      others.push([i, row]);
      continue;
    }
    keys.push(row.key);
    counts.push(row.events.length);
    for (const event of row.events) events.push(event);
  }
  const eventEnds = new Uint32Array(events.length);
  let end = 0;
  for (let i = 0; i < events.length; i++) eventEnds[i] = end += Buffer.byteLength(events[i] as string);
  // Its own memory (never a slice of Buffer's shared pool), so that it can be transferred.
  const bytes = Buffer.allocUnsafeSlow(end);
  bytes.write(events.join(''));
  return {
    rows: rows.length,
    keys,
    eventCounts: Uint32Array.from(counts),
    events: bytes,
    eventEnds,
    others,
    ...(page.last === undefined ? {} : { last: page.last }),
    ...(page.nullCursor === undefined ? {} : { nullCursor: page.nullCursor }),
    ...(page.duplicateKeys === undefined ? {} : { duplicateKeys: page.duplicateKeys }),
  };
}

export function unpackPage(packed: PackedPage): MappedPage {
  const rows: MappedRow[] = new Array(packed.rows);
  const { eventEnds, eventCounts, keys } = packed;
  const events = Buffer.from(packed.events.buffer, packed.events.byteOffset, packed.events.byteLength);
  let other = 0;
  let next = packed.others[0];
  let packedRow = 0;
  let event = 0;
  let start = 0;
  for (let i = 0; i < packed.rows; i++) {
    if (next !== undefined && next[0] === i) {
      rows[i] = next[1];
      next = packed.others[++other];
      continue;
    }
    const count = eventCounts[packedRow] as number;
    const own: string[] = new Array(count);
    for (let n = 0; n < count; n++) {
      const end = eventEnds[event++] as number;
      own[n] = events.toString('utf8', start, end);
      start = end;
    }
    rows[i] = { kind: 'send', key: keys[packedRow++], events: own, payloads: [] };
  }
  return {
    rows,
    ...(packed.last === undefined ? {} : { last: packed.last }),
    ...(packed.nullCursor === undefined ? {} : { nullCursor: packed.nullCursor }),
    ...(packed.duplicateKeys === undefined ? {} : { duplicateKeys: packed.duplicateKeys }),
  };
}

/** What posting a packed page hands over instead of copying: its block of events. */
export function transferOf(packed: PackedPage): ArrayBuffer[] {
  const { buffer } = packed.events;
  return buffer instanceof ArrayBuffer && buffer.byteLength > 0 ? [buffer] : [];
}
