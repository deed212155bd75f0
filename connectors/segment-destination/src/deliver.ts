import { gzipSync } from 'node:zlib';
import { mapSegmentCall, type SegmentMappingOptions } from '@idmerge/shared/mapping';
import type { Endpoint, Payload } from '@idmerge/shared/payload';
import type { RequestClient } from './actions-core.js';
import { apiHost, importAuth, type Settings } from './settings.js';

/**
 * Where mapped payloads go instead of HTTP when the destination runs inside `idmerge collect`: the
 * shared sender's `send` (queue, backpressure, retries, dead-letter). May return a promise to wait on.
 */
export type PayloadSink = (payload: Payload, original: unknown) => Promise<void> | undefined;

/** What happened to one input item (one Segment event) of a perform or performBatch call. */
export type ItemResult =
  | { ok: true; status: number; sent: Payload[] }
  | { ok: false; status: number; kind: 'invalid' | 'rejected' | 'retryable' | 'auth'; message: string };

const MAX_PER_REQUEST = 2000;

export function mappingOptions(settings: Settings): SegmentMappingOptions {
  return settings.project_token
    ? { mode: settings.id_merge_api, token: settings.project_token }
    : { mode: settings.id_merge_api };
}

interface Owned {
  payload: Payload;
  item: number;
}

interface HttpOutcome {
  status: number;
  text: string;
}

async function post(
  request: RequestClient,
  url: string,
  body: string,
  gzip: boolean,
  authorization?: string,
): Promise<HttpOutcome> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/json' };
  if (gzip) headers['Content-Encoding'] = 'gzip';
  if (authorization) headers.Authorization = authorization;
  const response = await request(url, {
    method: 'post',
    headers,
    body: gzip ? gzipSync(body) : body,
    throwHttpErrors: false,
  });
  return { status: response.status, text: response.content };
}

function classify(status: number, text: string): ItemResult & { ok: false } {
  const detail = text.length > 300 ? `${text.slice(0, 300)}…` : text;
  if (status === 401 || status === 403)
    return {
      ok: false,
      status,
      kind: 'auth',
      message: `Mixpanel refused the credentials (${status}): check the destination settings`,
    };
  if (status === 429 || status >= 500)
    return {
      ok: false,
      status,
      kind: 'retryable',
      message: `Mixpanel answered ${status}; retry later. ${detail}`,
    };
  return {
    ok: false,
    status,
    kind: 'rejected',
    message: `Mixpanel rejected the request (${status}): ${detail}`,
  };
}

interface FailedRecord {
  index: number;
  field?: string;
  message?: string;
}

function failedRecords(text: string): FailedRecord[] | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const list = (parsed as { failed_records?: unknown }).failed_records;
    if (!Array.isArray(list)) return undefined;
    return list.flatMap((entry): FailedRecord[] =>
      typeof entry === 'object' && entry !== null && typeof (entry as { index?: unknown }).index === 'number'
        ? [entry as FailedRecord]
        : [],
    );
  } catch {
    return undefined;
  }
}

/** `/track`, `/engage`, `/groups` answer `1`, `0` or `{status, error}`; 200 with 0 is still a failure. */
function acceptedByLegacyEndpoint(text: string): { ok: boolean; error?: string } {
  const trimmed = text.trim();
  if (trimmed === '1') return { ok: true };
  if (trimmed === '0') return { ok: false, error: 'the record was rejected (answer 0)' };
  try {
    const parsed = JSON.parse(trimmed) as { status?: unknown; error?: unknown };
    if (parsed.status === 1 || parsed.status === 'OK') return { ok: true };
    return { ok: false, error: typeof parsed.error === 'string' ? parsed.error : trimmed };
  } catch {
    return { ok: false, error: trimmed };
  }
}

async function sendImport(
  request: RequestClient,
  settings: Settings,
  group: Owned[],
  fail: (item: number, r: ItemResult & { ok: false }) => void,
): Promise<void> {
  const auth = importAuth(settings);
  if (!auth) {
    for (const owned of group)
      fail(owned.item, {
        ok: false,
        status: 401,
        kind: 'auth',
        message:
          'events go to /import, which needs a service account (username, secret, project ID) or an API secret; none is set',
      });
    return;
  }
  const strict = settings.strict_mode ?? true;
  const query = [strict ? 'strict=1' : 'strict=0', auth.query].filter(Boolean).join('&');
  const url = `${apiHost(settings)}/import?${query}`;
  const body = JSON.stringify(group.map((owned) => owned.payload.body));
  const outcome = await post(request, url, body, true, auth.authorization);
  if (outcome.status === 200) return;
  const failed = outcome.status === 400 ? failedRecords(outcome.text) : undefined;
  if (failed) {
    for (const record of failed) {
      const owned = group[record.index];
      if (!owned) continue;
      fail(owned.item, {
        ok: false,
        status: 400,
        kind: 'rejected',
        message: `Mixpanel rejected event ${record.index} of the request at ${record.field ?? 'unknown field'}: ${record.message ?? 'no message'}`,
      });
    }
    return;
  }
  const result = classify(outcome.status, outcome.text);
  for (const owned of group) fail(owned.item, result);
}

async function sendProfiles(
  request: RequestClient,
  settings: Settings,
  endpoint: 'engage' | 'groups' | 'track',
  group: Owned[],
  fail: (item: number, r: ItemResult & { ok: false }) => void,
): Promise<void> {
  // Each profile update is its own request so a rejection names exactly one Segment event.
  for (const owned of group) {
    const url = `${apiHost(settings)}/${endpoint}?verbose=1`;
    const outcome = await post(request, url, JSON.stringify([owned.payload.body]), false);
    if (outcome.status !== 200) {
      fail(owned.item, classify(outcome.status, outcome.text));
      continue;
    }
    const answer = acceptedByLegacyEndpoint(outcome.text);
    if (!answer.ok)
      fail(owned.item, {
        ok: false,
        status: 400,
        kind: 'rejected',
        message: `Mixpanel /${endpoint} rejected the update: ${answer.error ?? ''}`,
      });
  }
}

/** One input item made ready: its payloads, or why it cannot be sent. */
export type Prepared = { ok: true; payloads: Payload[] } | { ok: false; message: string };

/** A Segment call through the shared mapping layer. */
export function prepareCall(call: unknown, options: SegmentMappingOptions): Prepared {
  const mapped = mapSegmentCall(call, options);
  if (mapped.ok) return { ok: true, payloads: mapped.payloads };
  const message = mapped.errors.map((issue) => `${issue.field}: ${issue.message}`).join('; ');
  return { ok: false, message: `invalid ${describe(call)}: ${message}` };
}

/**
 * Maps each Segment call through the shared mapping layer and delivers the payloads; one result per
 * input item, in input order. See `deliverPrepared`.
 */
export function deliverCalls(
  request: RequestClient,
  settings: Settings,
  calls: readonly unknown[],
  sink?: PayloadSink,
): Promise<ItemResult[]> {
  const options = mappingOptions(settings);
  return deliverPrepared(
    request,
    settings,
    calls.map((call) => prepareCall(call, options)),
    calls,
    sink,
  );
}

/**
 * Sends prepared payloads (events gzipped to /import in requests of ≤2000, profile updates to
 * /engage and /groups), or hands them to the sink, and returns one result per input item, in input
 * order. An item that expands into several payloads fails if any of them fails.
 */
export async function deliverPrepared(
  request: RequestClient,
  settings: Settings,
  prepared: readonly Prepared[],
  originals: readonly unknown[],
  sink?: PayloadSink,
): Promise<ItemResult[]> {
  const results: ItemResult[] = [];
  const byEndpoint = new Map<Endpoint, Owned[]>();
  prepared.forEach((item, index) => {
    if (!item.ok) {
      results[index] = { ok: false, status: 400, kind: 'invalid', message: item.message };
      return;
    }
    results[index] = { ok: true, status: 200, sent: item.payloads };
    for (const payload of item.payloads) {
      const list = byEndpoint.get(payload.endpoint) ?? [];
      list.push({ payload, item: index });
      byEndpoint.set(payload.endpoint, list);
    }
  });
  if (sink) {
    for (const [item, call] of originals.entries()) {
      const result = results[item];
      if (!result?.ok) continue;
      for (const payload of result.sent) {
        const wait = sink(payload, call);
        if (wait !== undefined) await wait;
      }
      results[item] = { ...result, status: 202 };
    }
    return results;
  }
  const fail = (item: number, result: ItemResult & { ok: false }): void => {
    const current = results[item];
    if (current?.ok === false && current.kind !== 'rejected') return; // keep the first hard failure
    results[item] = result;
  };
  for (const [endpoint, owned] of byEndpoint) {
    if (endpoint === 'import') {
      for (let start = 0; start < owned.length; start += MAX_PER_REQUEST) {
        await sendImport(request, settings, owned.slice(start, start + MAX_PER_REQUEST), fail);
      }
    } else {
      await sendProfiles(request, settings, endpoint, owned, fail);
    }
  }
  return results;
}

function describe(call: unknown): string {
  if (typeof call !== 'object' || call === null) return 'call';
  const { type, messageId } = call as { type?: unknown; messageId?: unknown };
  return `${typeof type === 'string' ? type : 'call'}${typeof messageId === 'string' ? ` ${messageId}` : ''}`;
}
