import { apiError, type Answer } from './answer.js';
import {
  clustersEndpoint,
  eventsEndpoint,
  groupsEndpoint,
  profilesEndpoint,
  resetEndpoint,
  statsEndpoint,
} from './control.js';
import type { Exchange } from './exchange.js';
import { importEndpoint } from './import-endpoint.js';
import {
  lookupTableInspection,
  lookupTablesInspection,
  replaceLookupTableEndpoint,
} from './lookup-tables.js';
import { tokenEndpoint } from './track-endpoints.js';

export interface Route {
  path: string;
  /** The path is a prefix followed by one more part, an ID: `/lookup-tables/{id}`. */
  withId?: true;
  methods: readonly string[];
  /** Ingestion endpoints are where faults are injected; control endpoints never fail on purpose. */
  kind: 'ingest' | 'control';
  handle(ex: Exchange): Answer | Promise<Answer>;
}

const GET_OR_POST = ['GET', 'POST'] as const;

/**
 * Every endpoint the sandbox serves. Paths are matched without trailing slashes. A new endpoint is
 * one more row here.
 */
export const ROUTES: readonly Route[] = [
  { path: '/import', methods: GET_OR_POST, kind: 'ingest', handle: importEndpoint },
  { path: '/track', methods: GET_OR_POST, kind: 'ingest', handle: tokenEndpoint('track') },
  { path: '/engage', methods: GET_OR_POST, kind: 'ingest', handle: tokenEndpoint('engage') },
  { path: '/groups', methods: GET_OR_POST, kind: 'ingest', handle: tokenEndpoint('groups') },
  {
    path: '/lookup-tables',
    withId: true,
    methods: ['PUT'],
    kind: 'ingest',
    handle: replaceLookupTableEndpoint,
  },
  { path: '/_sandbox/stats', methods: ['GET'], kind: 'control', handle: statsEndpoint },
  { path: '/_sandbox/events', methods: ['GET'], kind: 'control', handle: eventsEndpoint },
  { path: '/_sandbox/clusters', methods: ['GET'], kind: 'control', handle: clustersEndpoint },
  { path: '/_sandbox/profiles', methods: ['GET'], kind: 'control', handle: profilesEndpoint },
  { path: '/_sandbox/groups', methods: ['GET'], kind: 'control', handle: groupsEndpoint },
  { path: '/_sandbox/lookup-tables', methods: ['GET'], kind: 'control', handle: lookupTablesInspection },
  {
    path: '/_sandbox/lookup-tables',
    withId: true,
    methods: ['GET'],
    kind: 'control',
    handle: lookupTableInspection,
  },
  { path: '/_sandbox/reset', methods: ['POST'], kind: 'control', handle: resetEndpoint },
];

/** The route for a request, or the answer saying why there is none (404, or 405 with `Allow`). */
export function findRoute(method: string, path: string): Route | Answer {
  const route = ROUTES.find((r) =>
    r.withId
      ? path.startsWith(`${r.path}/`) && !path.slice(r.path.length + 1).includes('/')
      : r.path === path,
  );
  if (route === undefined) {
    const served = ROUTES.filter((r) => r.kind === 'ingest')
      .map((r) => (r.withId ? `${r.path}/{id}` : r.path))
      .join(', ');
    return apiError(404, `no such endpoint: ${path}; the sandbox serves ${served} and /_sandbox/…`);
  }
  if (!route.methods.includes(method)) {
    return apiError(405, `${path} takes ${route.methods.join(' or ')}, not ${method}`, {
      headers: { Allow: [...route.methods, 'OPTIONS'].join(', ') },
    });
  }
  return route;
}
