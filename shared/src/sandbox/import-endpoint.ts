import { LIMITS } from '../validation/index.js';
import { apiError, flagAnswer, INVALID_CREDENTIALS, jsonAnswer, type Answer } from './answer.js';
import { projectAuth } from './auth.js';
import { readBody } from './body.js';
import type { Exchange } from './exchange.js';
import { requestRecords } from './payload.js';
import { ingestEvents } from './ingest.js';

/**
 * `/import` (GET or POST). A JSON array or NDJSON body (optionally gzip) is answered with
 * `{"code":200,"num_records_imported":N,"status":"OK"}`, or with strict=1 the partial-success 400.
 * Records sent in a `data` parameter (the Node library's `import`/`import_batch`: `GET ?data=` or
 * a form body `data=`) are answered as that library checks: `1`/`0`, or `{"status":1,"error":null}`
 * with verbose=1.
 */
export async function importEndpoint(ex: Exchange): Promise<Answer> {
  const { state, sink, credentials } = ex.sandbox;
  const auth = projectAuth(ex.req, ex.url, credentials);
  if (!auth.ok) {
    await readBody(ex.req, LIMITS.maxRequestBytes).catch(() => undefined);
    return apiError(401, INVALID_CREDENTIALS);
  }
  const body = await readBody(ex.req, LIMITS.maxRequestBytes);
  const input = requestRecords(ex.url.searchParams, body.toString('utf8'), ex.req.headers['content-type']);
  const { records } = input;
  if (records.length > LIMITS.maxEventsPerRequest) {
    return apiError(
      413,
      `request has ${records.length} events; at most ${LIMITS.maxEventsPerRequest} are accepted`,
      { records: records.length, accepted: 0 },
    );
  }
  if (sink !== undefined || state === undefined) {
    const accepted = sink?.take(records) ?? 0;
    return jsonAnswer(
      200,
      { code: 200, num_records_imported: accepted, status: 'OK' },
      { records: records.length, accepted },
    );
  }
  const strict = input.params.get('strict') === '1';
  const outcome = ingestEvents(state, records, {
    endpoint: 'import',
    strict,
    authenticated: auth.authenticated,
    receivedMs: ex.receivedMs,
  });
  const counts = { records: records.length, accepted: outcome.accepted };
  const summary =
    outcome.failed.length > 0
      ? outcome.failed.map((f) => `record ${f.index}: ${f.message}`).join(' | ')
      : undefined;
  if (input.via === 'data') return flagAnswer(input.params.get('verbose') === '1', summary, counts);
  if (strict && outcome.failed.length > 0) {
    return jsonAnswer(
      400,
      {
        code: 400,
        error: 'some data points in the request failed validation',
        status: 'Bad Request',
        num_records_imported: outcome.accepted,
        failed_records: outcome.failed,
      },
      { ...counts, reason: summary },
    );
  }
  return jsonAnswer(
    200,
    { code: 200, num_records_imported: outcome.accepted, status: 'OK' },
    {
      ...counts,
      ...(summary !== undefined ? { reason: summary } : {}),
    },
  );
}
