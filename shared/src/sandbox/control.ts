import { apiError, INVALID_CREDENTIALS, jsonAnswer, type Answer } from './answer.js';
import { controlAuth } from './auth.js';
import type { Exchange } from './exchange.js';
import type { RequestStats } from './request-stats.js';
import type { RecordStats } from './state.js';

/** What `/_sandbox/stats` answers (sink mode: the sink's counts instead of the record counts). */
export type SandboxStats = RecordStats & ReturnType<RequestStats['toJSON']>;

/** `/_sandbox/stats`: what became of the records, and every request counted by its answer. */
export function statsEndpoint(ex: Exchange): Answer {
  const { state, sink, requests } = ex.sandbox;
  const records = sink !== undefined ? sink.stats() : state?.stats;
  return jsonAnswer(200, { ...records, ...requests.toJSON() });
}

function stateOr404(ex: Exchange) {
  return ex.sandbox.state;
}

const SINK_ONLY = () => apiError(404, 'sink mode keeps only /_sandbox/stats');

export function eventsEndpoint(ex: Exchange): Answer {
  const state = stateOr404(ex);
  if (state === undefined) return SINK_ONLY();
  return {
    status: 200,
    contentType: 'application/x-ndjson',
    body: (function* () {
      for (const event of state.storedEvents()) yield `${JSON.stringify(event)}\n`;
    })(),
  };
}

export function clustersEndpoint(ex: Exchange): Answer {
  const state = stateOr404(ex);
  if (state === undefined) return SINK_ONLY();
  return jsonAnswer(200, { mode: ex.sandbox.mode, clusters: state.clusters() });
}

export function profilesEndpoint(ex: Exchange): Answer {
  const state = stateOr404(ex);
  if (state === undefined) return SINK_ONLY();
  return jsonAnswer(200, Object.fromEntries(state.profiles));
}

export function groupsEndpoint(ex: Exchange): Answer {
  const state = stateOr404(ex);
  if (state === undefined) return SINK_ONLY();
  return jsonAnswer(200, Object.fromEntries(state.groups));
}

/** `POST /_sandbox/reset`: forgets everything; it changes state, so it takes the project's credentials. */
export function resetEndpoint(ex: Exchange): Answer {
  if (!controlAuth(ex.req, ex.sandbox.credentials)) {
    return apiError(401, INVALID_CREDENTIALS, {
      reason: "resetting the sandbox takes the project's credentials (HTTP Basic, as for /import)",
    });
  }
  ex.sandbox.state?.reset();
  ex.sandbox.sink?.reset();
  ex.sandbox.requests.reset();
  ex.sandbox.lookupTables.reset();
  return jsonAnswer(200, { status: 'reset' });
}
