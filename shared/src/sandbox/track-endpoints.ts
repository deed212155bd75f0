import { LIMITS } from '../validation/index.js';
import { apiError, flagAnswer, type Answer } from './answer.js';
import { readBody } from './body.js';
import type { Exchange } from './exchange.js';
import { ingestEvents } from './ingest.js';
import { requestRecords } from './payload.js';

export type TokenEndpoint = 'track' | 'engage' | 'groups';

/**
 * `/track`, `/engage`, `/groups` (GET or POST): the token travels in each record; records come in a
 * `data` parameter (base64 or JSON, one or many) or as a JSON body. The answer is `1`/`0`, or
 * `{"status":1|0,"error":…}` with verbose=1; a batch with invalid records stores the valid ones and
 * answers 0 with the reasons, record by record.
 */
export function tokenEndpoint(endpoint: TokenEndpoint) {
  return async (ex: Exchange): Promise<Answer> => {
    const { state, credentials } = ex.sandbox;
    if (state === undefined) return apiError(404, 'sink mode accepts /import only');
    const body = await readBody(ex.req, LIMITS.maxRequestBytes);
    const input = requestRecords(ex.url.searchParams, body.toString('utf8'), ex.req.headers['content-type']);
    const verbose = input.params.get('verbose') === '1';
    const { records } = input;
    const limit = endpoint === 'track' ? LIMITS.maxEventsPerRequest : LIMITS.maxProfileUpdatesPerRequest;
    if (records.length > limit) {
      return apiError(413, `request has ${records.length} records; at most ${limit} are accepted`, {
        records: records.length,
        accepted: 0,
      });
    }
    if (records.length === 0)
      return flagAnswer(verbose, 'no records: send data=<records>', { records: 0, accepted: 0 });
    const errors: string[] = [];
    let accepted = 0;
    if (endpoint === 'track') {
      const outcome = ingestEvents(state, records, {
        endpoint: 'track',
        strict: false,
        authenticated: false,
        receivedMs: ex.receivedMs,
        projectToken: credentials.projectToken,
      });
      accepted = outcome.accepted;
      for (const f of outcome.failed) errors.push(`record ${f.index}: ${f.message}`);
    } else {
      records.forEach((record, index) => {
        const r = (typeof record === 'object' && record !== null ? record : {}) as Record<string, unknown>;
        if (credentials.projectToken !== undefined && r.$token !== credentials.projectToken) {
          state.rejectRecord();
          errors.push(`record ${index}: $token: is missing or is not this project's token`);
          return;
        }
        const violations = state.update(endpoint, record);
        if (violations.length > 0)
          errors.push(`record ${index}: ${violations.map((v) => `${v.field}: ${v.message}`).join('; ')}`);
        else accepted++;
      });
    }
    return flagAnswer(verbose, errors.length > 0 ? errors.join(' | ') : undefined, {
      records: records.length,
      accepted,
    });
  };
}
