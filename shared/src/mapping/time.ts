import { describeInstant, EARLIEST_EVENT_MS, MAX_FUTURE_MS } from '../validation/index.js';

export type TimeResult = { ok: true; ms: number } | { ok: false; message: string };

export interface TimeOptions {
  /** IANA zone of zone-less date-times from the source, e.g. `UTC` or `Europe/Berlin`. */
  timeZone?: string;
  nowMs?: number;
}

const HAS_ZONE = /(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$/;
const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?$/;
const NUMERIC = /^-?\d+(?:\.\d+)?$/;
/** The calendar part of an ISO 8601 date-time, with or without a zone. */
const ISO_FIELDS = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?/;

/** A value for a message, whatever it is (JSON.stringify throws on bigints and deep nesting). */
function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  try {
    const text = JSON.stringify(value);
    if (text !== undefined) return text.length > 80 ? `${text.slice(0, 80)}…` : text;
  } catch {
    // fall through
  }
  return Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'an object' : typeof value;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * Why the calendar fields of an ISO date-time name no real instant (month 13, February 30, 25
 * o'clock), or undefined. Date.UTC and Date.parse would roll such fields over into another date
 * without a word; `24:00` (the end of a day) is ISO 8601 and allowed.
 */
function calendarProblem(text: string): string | undefined {
  const fields = ISO_FIELDS.exec(text);
  if (fields === null) return undefined;
  const [, y, mo, d, h, mi, s] = fields;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12) return `month ${mo} does not exist`;
  if (day < 1 || day > daysInMonth(year, month)) return `day ${d} does not exist in ${y}-${mo}`;
  const hour = Number(h ?? 0);
  const minute = Number(mi ?? 0);
  const second = Number(s ?? 0);
  if (hour > 24 || (hour === 24 && (minute > 0 || second > 0))) return `hour ${h} does not exist`;
  if (minute > 59) return `minute ${mi} does not exist`;
  if (second > 59) return `second ${s} does not exist`;
  return undefined;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** True when `timeZone` is an IANA zone this runtime knows. */
export function isKnownTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The zone's offset from UTC, in ms, at the instant `utcMs`. */
function zoneOffsetMs(utcMs: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(new Date(utcMs))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const asUtc = Date.UTC(
    parts.year ?? 0,
    (parts.month ?? 1) - 1,
    parts.day ?? 1,
    parts.hour ?? 0,
    parts.minute ?? 0,
    parts.second ?? 0,
  );
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

/** The instant of a wall-clock time in a zone (the earlier one when DST repeats an hour). */
function wallTimeToUtc(wallMs: number, timeZone: string): number {
  const firstGuess = wallMs - zoneOffsetMs(wallMs, timeZone);
  const offset = zoneOffsetMs(firstGuess, timeZone);
  return wallMs - offset;
}

function fromEpochNumber(value: number): number {
  // Mixpanel's rule: seconds, or milliseconds when above 1e11.
  return Math.abs(value) > 1e11 ? value : value * 1000;
}

/** `received` describes the input for an error message; it is called only when there is one. */
function inRange(ms: number, received: () => string, nowMs: number): TimeResult {
  if (!Number.isFinite(ms)) return { ok: false, message: `${received()} is not a time` };
  if (ms < EARLIEST_EVENT_MS) {
    return {
      ok: false,
      message: `${received()} is before 1971-01-01, which Mixpanel rejects; check the column or its unit`,
    };
  }
  if (ms > nowMs + MAX_FUTURE_MS) {
    return {
      ok: false,
      message: `${received()} is more than one hour in the future (${describeInstant(ms)}); check the unit or the time zone`,
    };
  }
  return { ok: true, ms: Math.round(ms) };
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isDigit = (code: number) => code >= 0x30 && code <= 0x39;

/** The number written by the ASCII digits of `text` from `start` to `end` (all digits checked). */
function digitsAt(text: string, start: number, end: number): number {
  let value = 0;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (!isDigit(code)) return -1;
    value = value * 10 + (code - 0x30);
  }
  return value;
}

/**
 * The instant of `YYYY-MM-DDTHH:MM:SSZ` or `YYYY-MM-DDTHH:MM:SS.sssZ` (what Segment libraries
 * and `Date.toISOString` write), years 1000 on, when every field names a real date and time; else
 * undefined and the general path reads the text. Same result as that path, without its regular
 * expressions and parsing.
 */
function canonicalUtcMs(text: string): number | undefined {
  const length = text.length;
  if (length !== 20 && length !== 24) return undefined;
  if (text.charCodeAt(length - 1) !== 0x5a /* Z */) return undefined;
  if (text.charCodeAt(4) !== 0x2d || text.charCodeAt(7) !== 0x2d || text.charCodeAt(10) !== 0x54)
    return undefined;
  if (text.charCodeAt(13) !== 0x3a || text.charCodeAt(16) !== 0x3a) return undefined;
  if (length === 24 && text.charCodeAt(19) !== 0x2e) return undefined;
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 7);
  const day = digitsAt(text, 8, 10);
  const hour = digitsAt(text, 11, 13);
  const minute = digitsAt(text, 14, 16);
  const second = digitsAt(text, 17, 19);
  const millis = length === 24 ? digitsAt(text, 20, 23) : 0;
  if (year < 1000 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23) return undefined;
  if (minute < 0 || minute > 59 || second < 0 || second > 59 || millis < 0) return undefined;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] as number))) return undefined;
  return Date.UTC(year, month - 1, day, hour, minute, second, millis);
}

/**
 * Event time from an ISO string with a zone, a zone-less date-time with an explicit source time
 * zone, epoch seconds or milliseconds (numbers, bigints or numeric strings), or a Date.
 */
export function parseEventTime(value: unknown, options: TimeOptions = {}): TimeResult {
  const nowMs = options.nowMs ?? Date.now();
  if (value instanceof Date)
    return inRange(
      value.getTime(),
      () => (Number.isNaN(value.getTime()) ? 'an invalid Date' : value.toISOString()),
      nowMs,
    );
  if (typeof value === 'bigint') return inRange(fromEpochNumber(Number(value)), () => `${value}`, nowMs);
  if (typeof value === 'number') return inRange(fromEpochNumber(value), () => `${value}`, nowMs);
  if (typeof value !== 'string' || value.trim() === '') {
    return {
      ok: false,
      message: `expected a time (ISO 8601 with a zone, epoch seconds or milliseconds), got ${describeValue(value)}`,
    };
  }
  const canonical = canonicalUtcMs(value);
  if (canonical !== undefined) return inRange(canonical, () => `"${value}"`, nowMs);
  const text = value.trim();
  if (NUMERIC.test(text)) return inRange(fromEpochNumber(Number(text)), () => `"${text}"`, nowMs);
  const problem = calendarProblem(text);
  if (problem !== undefined) return { ok: false, message: `"${text}" is not a real date-time: ${problem}` };
  if (HAS_ZONE.test(text)) {
    const ms = Date.parse(text.replace(' ', 'T'));
    if (Number.isNaN(ms)) return { ok: false, message: `"${text}" is not an ISO 8601 date-time` };
    return inRange(ms, () => `"${text}"`, nowMs);
  }
  const local = LOCAL_DATE_TIME.exec(text);
  if (local === null) return { ok: false, message: `"${text}" is not an ISO 8601 date-time` };
  if (options.timeZone === undefined) {
    return {
      ok: false,
      message: `"${text}" has no time zone; add one to the value (e.g. Z or +02:00) or set the source time zone (time_zone: UTC)`,
    };
  }
  if (!isKnownTimeZone(options.timeZone)) {
    return {
      ok: false,
      message: `unknown time zone "${options.timeZone}"; use an IANA name such as UTC or Europe/Berlin`,
    };
  }
  const [, y, mo, d, h, mi, s, frac] = local;
  const wallMs =
    Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0)) +
    Number(`0.${frac ?? '0'}`) * 1000;
  const zone = options.timeZone;
  return inRange(wallTimeToUtc(wallMs, zone), () => `"${text}" (${zone})`, nowMs);
}
