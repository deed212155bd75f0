import { gzipSync } from 'node:zlib';
import { mapSegmentCall, type SegmentMappingOptions } from '@idmerge/shared/mapping';
import type { Endpoint, Payload } from '@idmerge/shared/payload';
import {
  classifyStatus,
  readStatusReply,
  readStrictFailure,
  type StrictFailure,
} from '@idmerge/shared/sender';
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

/** POSTs a JSON body; `gzip` compresses it (only /import accepts that), `authorization` is sent when given. */
async function post(
  request: RequestClient,
  url: string,
  body: string,
  { gzip, authorization }: { gzip: boolean; authorization?: string },
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

/** A failed HTTP answer as the item result of every event in the request. */
function classify(status: number, text: string): ItemResult & { ok: false } {
  const detail = text.length > 300 ? `${text.slice(0, 300)}…` : text;
  switch (classifyStatus(status)) {
    case 'stop':
      return {
        ok: false,
        status,
        kind: 'auth',
        message: `Mixpanel refused the credentials (${status}): check the destination settings`,
      };
    case 'wait':
    case 'retry':
      return {
        ok: false,
        status,
        kind: 'retryable',
        message: `Mixpanel answered ${status}; retry later. ${detail}`,
      };
    default:
      return {
        ok: false,
        status,
        kind: 'rejected',
        message: `Mixpanel rejected the request (${status}): ${detail}`,
      };
  }
}

/** The `$insert_id` of an event sent to /import, to place failures Mixpanel names by it. */
function insertIdOf(payload: Payload): string | undefined {
  if (payload.endpoint !== 'import' && payload.endpoint !== 'track') return undefined;
  const id = payload.body.properties.$insert_id;
  return typeof id === 'string' ? id : undefined;
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
  const outcome = await post(request, url, body, { gzip: true, authorization: auth.authorization });
  if (outcome.status === 200) return;
  if (outcome.status === 400) {
    const answer = readStrictFailure(outcome.text, group.length, (i) =>
      insertIdOf((group[i] as Owned).payload),
    );
    if (answer.kind === 'partial') {
      failNamed(group, answer, fail);
      return;
    }
  }
  const result = classify(outcome.status, outcome.text);
  for (const owned of group) fail(owned.item, result);
}

/**
 * A strict partial failure on the events that own the records Mixpanel named; when it refused some
 * without saying which, every event it did not name fails too, since none of them is known to be in.
 */
function failNamed(
  group: readonly Owned[],
  answer: StrictFailure & { kind: 'partial' },
  fail: (item: number, r: ItemResult & { ok: false }) => void,
): void {
  for (const [index, record] of answer.failedAt) {
    fail((group[index] as Owned).item, {
      ok: false,
      status: 400,
      kind: 'rejected',
      message: `Mixpanel rejected event ${index} of the request at ${record.field ?? 'unknown field'}: ${record.message}`,
    });
  }
  if (answer.unattributed === 0) return;
  group.forEach((owned, index) => {
    if (answer.failedAt.has(index)) return;
    fail(owned.item, {
      ok: false,
      status: 400,
      kind: 'rejected',
      message: `Mixpanel refused ${answer.unattributed} of the ${group.length} events of the request without saying which; this one may not have been ingested`,
    });
  });
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
    const outcome = await post(request, url, JSON.stringify([owned.payload.body]), { gzip: false });
    if (outcome.status !== 200) {
      fail(owned.item, classify(outcome.status, outcome.text));
      continue;
    }
    const answer = readStatusReply(outcome.text);
    if (!answer.ok)
      fail(owned.item, {
        ok: false,
        status: 400,
        kind: 'rejected',
        message: `Mixpanel /${endpoint} rejected the update: ${answer.error}`,
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
