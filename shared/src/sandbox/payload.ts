import { BodyError } from './body.js';

/**
 * How a request carried its records, which decides how it is answered: in a `data` parameter (the
 * form the Mixpanel libraries use, answered `1`/`0`) or as a JSON/NDJSON body (answered with
 * `/import`'s JSON).
 */
export interface RequestRecords {
  records: unknown[];
  via: 'data' | 'json';
  /** Parameters from the query string and, for form bodies, the body (the body wins). */
  params: URLSearchParams;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new BodyError(400, `${what} is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * A `data` value: JSON, or base64 (standard or URL-safe) of JSON; one record or an array of them.
 * A `+` that a form decoder turned into a space is put back: base64 has no spaces.
 */
export function recordsFromData(data: string): unknown[] {
  const trimmed = data.trim();
  if (trimmed === '') throw new BodyError(400, 'the data parameter is empty');
  let json: string;
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) json = trimmed;
  else {
    const base64 = trimmed.replace(/ /g, '+');
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(base64)) {
      throw new BodyError(400, 'the data parameter is neither JSON nor base64 of JSON');
    }
    json = Buffer.from(base64, 'base64').toString('utf8');
  }
  const parsed = parseJson(json, 'the data parameter');
  return Array.isArray(parsed) ? parsed : [parsed];
}

/** Records from a JSON array, a single JSON object, or NDJSON; the error names the line. */
export function recordsFromJson(text: string): unknown[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  if (trimmed.startsWith('[')) return parseJson(trimmed, 'the body') as unknown[];
  // One object, perhaps over several lines; otherwise one object per line.
  if (!trimmed.includes('\n')) return [parseJson(trimmed, 'the body')];
  try {
    return [JSON.parse(trimmed) as unknown];
  } catch {
    // NDJSON
  }
  const lines = trimmed.split('\n');
  const records: unknown[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    records.push(parseJson(line, `line ${i + 1} of the body`));
  });
  return records;
}

function looksLikeForm(text: string): boolean {
  return /^\s*[A-Za-z_][A-Za-z0-9_]*=/.test(text);
}

/**
 * The records of a request, wherever it carries them: a `data` query parameter (GET, as the Node
 * library and mixpanel-browser without XHR send), a form body `data=…` (sent as
 * `application/x-www-form-urlencoded`, or as `text/plain` by `navigator.sendBeacon`), or a JSON /
 * NDJSON body. A body without a content type is read by its shape.
 */
export function requestRecords(
  query: URLSearchParams,
  body: string,
  contentType: string | undefined,
): RequestRecords {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const params = new URLSearchParams(query);
  const isForm =
    type === 'application/x-www-form-urlencoded' ||
    ((type === 'text/plain' || type === '') && looksLikeForm(body));
  if (isForm) {
    for (const [key, value] of new URLSearchParams(body)) params.set(key, value);
    const data = params.get('data');
    if (data === null) throw new BodyError(400, 'the form body has no data= field');
    return { records: recordsFromData(data), via: 'data', params };
  }
  if (body.trim() === '') {
    const data = params.get('data');
    if (data !== null) return { records: recordsFromData(data), via: 'data', params };
    return { records: [], via: 'json', params };
  }
  return { records: recordsFromJson(body), via: 'json', params };
}
