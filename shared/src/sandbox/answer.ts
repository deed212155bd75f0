/**
 * What an endpoint answers, before it is written: the server adds CORS headers, logs it, counts it,
 * and for a `lost` fault drops the connection instead of writing it.
 */
export interface Answer {
  status: number;
  /** A text, or lines written one after another (large inspection answers). */
  body: string | Iterable<string>;
  contentType: string;
  headers?: Record<string, string>;
  /** Records the request carried, and how many were stored (for the request log). */
  records?: number;
  accepted?: number;
  /** Why (part of) the request was refused, for the request log. */
  reason?: string;
}

/** Status texts as Mixpanel's error bodies spell them. */
const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Request Entity Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? 'Error';
}

export function jsonAnswer(status: number, body: unknown, extra: Partial<Answer> = {}): Answer {
  return { status, body: JSON.stringify(body), contentType: 'application/json', ...extra };
}

/** `{"code":…,"error":…,"status":…}`, the shape of every /import error. */
export function apiError(status: number, error: string, extra: Partial<Answer> = {}): Answer {
  return jsonAnswer(status, { code: status, error, status: statusText(status) }, { reason: error, ...extra });
}

export const INVALID_CREDENTIALS = 'Invalid credentials';

/**
 * The answer of `/track`, `/engage`, `/groups` (and of `/import` sent the same way, with `data=`):
 * `1`/`0` as text, or `{"status":1|0,"error":…}` with `verbose=1`. Both Mixpanel libraries read
 * exactly these (mixpanel-browser: `Number(responseText)` or `response.status`; the Node library:
 * `data !== "1"`, or `result.status != 1` when verbose).
 */
export function flagAnswer(
  verbose: boolean,
  error: string | undefined,
  counts: { records: number; accepted: number },
  status = 200,
): Answer {
  const body = verbose ? JSON.stringify({ status: error ? 0 : 1, error: error ?? null }) : error ? '0' : '1';
  return {
    status,
    body,
    contentType: verbose ? 'application/json' : 'text/plain; charset=utf-8',
    ...counts,
    ...(error !== undefined ? { reason: error } : {}),
  };
}
