import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { IdMergeMode } from '../payload/index.js';
import { LIMITS } from '../validation/index.js';
import { BodyError, parseFormOrJson, parseRecords, readBody } from './body.js';
import { faultPicker, parseFaultSpec, seededRandom, type FaultKind } from './faults.js';
import { createSink } from './sink.js';
import { SandboxState } from './state.js';

export interface SandboxOptions {
  port: number;
  host?: string;
  mode: IdMergeMode;
  projectToken?: string;
  serviceAccount?: { username: string; secret: string; projectId: string };
  apiSecret?: string;
  /** e.g. `429=0.1,500=0.05,503=0.02,reset=0.02,slow=0.01` */
  faults?: string;
  retryAfterSeconds?: number;
  seed?: number;
  dataDir?: string;
  /** Benchmark mode: count and check /import records, store nothing. */
  sink?: boolean;
  /** How long a `slow` fault waits before answering: longer than the client's timeout. */
  clientTimeoutMs?: number;
  /** Serve HTTPS with this certificate and key (PEM text) instead of plain HTTP. */
  tls?: { cert: string; key: string };
}

export interface RunningSandbox {
  url: string;
  port: number;
  close(): Promise<void>;
}

const JSON_HEADERS = { 'Content-Type': 'application/json' };

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res
    .writeHead(status, { ...JSON_HEADERS, ...headers })
    .end(typeof body === 'string' ? body : JSON.stringify(body));
}

const UNAUTHORIZED = { code: 401, error: 'Invalid credentials', status: 'Unauthorized' };

/** Who may call `/import`, from the configured credentials; none configured means anyone. */
function importAuthorized(
  req: IncomingMessage,
  url: URL,
  options: SandboxOptions,
): { ok: boolean; authenticated: boolean } {
  const header = req.headers.authorization ?? '';
  const decoded = header.startsWith('Basic ')
    ? Buffer.from(header.slice(6), 'base64').toString('utf8')
    : undefined;
  const configured =
    options.serviceAccount !== undefined ||
    options.apiSecret !== undefined ||
    options.projectToken !== undefined;
  if (!configured) return { ok: true, authenticated: decoded !== undefined };
  const sa = options.serviceAccount;
  if (sa && decoded === `${sa.username}:${sa.secret}`) {
    return { ok: url.searchParams.get('project_id') === sa.projectId, authenticated: true };
  }
  if (options.apiSecret && decoded === `${options.apiSecret}:`) return { ok: true, authenticated: true };
  if (options.projectToken && decoded === `${options.projectToken}:`)
    return { ok: true, authenticated: true };
  return { ok: false, authenticated: false };
}

const TRACK_MAX_AGE_MS = 5 * 24 * 3600 * 1000;

/** `/track` takes events from the last 5 days only; says why an older one is refused. */
function olderThanTrackAccepts(properties: unknown): string | undefined {
  const time = (properties as { time?: unknown } | undefined)?.time;
  if (typeof time !== 'number') return undefined; // strict validation names a missing or bad time
  const ms = time > 1e11 ? time : time * 1000;
  if (ms >= Date.now() - TRACK_MAX_AGE_MS) return undefined;
  return 'properties.time: /track accepts events from the last 5 days only; send older events to /import';
}

/**
 * A local server that answers as Mixpanel's ingestion API does: `/import`,
 * `/track`, `/engage`, `/groups`, identity resolution with the core model, seeded faults, and
 * inspection under `/_sandbox/`.
 */
export async function startSandbox(options: SandboxOptions): Promise<RunningSandbox> {
  const state = options.sink ? undefined : new SandboxState(options.mode, options.dataDir);
  const sink = options.sink ? createSink() : undefined;
  const pickFault = faultPicker(
    options.faults ? parseFaultSpec(options.faults) : {},
    seededRandom(options.seed ?? 1),
  );
  const slowMs = options.clientTimeoutMs ?? 10_000;
  const pendingSlow = new Set<NodeJS.Timeout>();

  async function injectFault(fault: FaultKind, req: IncomingMessage, res: ServerResponse): Promise<void> {
    // The body is read and thrown away: a fault never ingests anything.
    if (fault === 'reset') {
      req.socket.destroy();
      return;
    }
    for await (const _chunk of req) {
      // drain
    }
    if (fault === 'slow') {
      const timer = setTimeout(() => {
        pendingSlow.delete(timer);
        send(res, 503, {
          code: 503,
          error: 'slow reply: the sandbox answered after the client timeout',
          status: 'Service Unavailable',
        });
      }, slowMs);
      pendingSlow.add(timer);
      return;
    }
    if (fault === '429') {
      const headers: Record<string, string> =
        options.retryAfterSeconds !== undefined ? { 'Retry-After': String(options.retryAfterSeconds) } : {};
      send(
        res,
        429,
        {
          code: 429,
          error: 'Project exceeded rate limits. Please retry the request with exponential backoff.',
          status: 'Too Many Requests',
        },
        headers,
      );
      return;
    }
    send(res, Number(fault), {
      code: Number(fault),
      error: 'injected fault',
      status: fault === '500' ? 'Internal Server Error' : 'Service Unavailable',
    });
  }

  async function handleImport(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const auth = importAuthorized(req, url, options);
    if (!auth.ok) return send(res, 401, UNAUTHORIZED);
    const records = parseRecords(await readBody(req, LIMITS.maxRequestBytes));
    if (records.length > LIMITS.maxEventsPerRequest) {
      return send(res, 413, {
        code: 413,
        error: `request has ${records.length} events; at most ${LIMITS.maxEventsPerRequest} are accepted`,
        status: 'Request Entity Too Large',
      });
    }
    if (sink) return send(res, 200, { code: 200, num_records_imported: sink.take(records), status: 'OK' });
    const s = state as SandboxState;
    const strict = url.searchParams.get('strict') === '1';
    const failed: Array<{ index: number; $insert_id: string; field: string; message: string }> = [];
    let imported = 0;
    records.forEach((record, index) => {
      const props = (record as { event?: unknown; properties?: Record<string, unknown> } | null)?.properties;
      if ((record as { event?: unknown } | null)?.event === '$merge' && !auth.authenticated) {
        s.rejectRecord();
        failed.push({
          index,
          $insert_id: String(props?.$insert_id ?? ''),
          field: 'event',
          message: '$merge is accepted only on authenticated /import',
        });
        return;
      }
      const outcome = s.ingestEvent(record);
      if (outcome.status === 'rejected') {
        const first = outcome.violations[0];
        failed.push({
          index,
          $insert_id: String(props?.$insert_id ?? ''),
          field: first?.field ?? '',
          message: outcome.violations.map((v) => `${v.field}: ${v.message}`).join('; '),
        });
      } else imported++;
    });
    if (strict && failed.length > 0) {
      return send(res, 400, {
        code: 400,
        error: 'some data points in the request failed validation',
        status: 'Bad Request',
        num_records_imported: imported,
        failed_records: failed,
      });
    }
    send(res, 200, { code: 200, num_records_imported: imported, status: 'OK' });
  }

  async function handleTokenEndpoint(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    endpoint: 'track' | 'engage' | 'groups',
  ): Promise<void> {
    const s = state as SandboxState;
    const verbose = url.searchParams.get('verbose') === '1';
    const reply = (error?: string) =>
      verbose
        ? send(res, 200, { status: error ? 0 : 1, error: error ?? null })
        : send(res, 200, error ? '0' : '1');
    const records = parseFormOrJson(await readBody(req, LIMITS.maxRequestBytes), req.headers['content-type']);
    if (records.length > LIMITS.maxProfileUpdatesPerRequest) {
      return send(res, 413, {
        code: 413,
        error: `request has ${records.length} records; at most ${LIMITS.maxProfileUpdatesPerRequest} are accepted`,
        status: 'Request Entity Too Large',
      });
    }
    const errors: string[] = [];
    records.forEach((record, index) => {
      const r = (record ?? {}) as Record<string, unknown>;
      const token =
        endpoint === 'track' ? (r.properties as Record<string, unknown> | undefined)?.token : r.$token;
      if (options.projectToken !== undefined && token !== options.projectToken) {
        s.rejectRecord();
        errors.push(`record ${index}: token, missing or empty`);
        return;
      }
      if (endpoint === 'track') {
        if (r.event === '$merge') {
          s.rejectRecord();
          errors.push(`record ${index}: $merge is accepted only on authenticated /import`);
          return;
        }
        const tooOld = olderThanTrackAccepts(r.properties);
        if (tooOld !== undefined) {
          s.rejectRecord();
          errors.push(`record ${index}: ${tooOld}`);
          return;
        }
        const outcome = s.ingestEvent(record);
        if (outcome.status === 'rejected')
          errors.push(
            `record ${index}: ${outcome.violations.map((v) => `${v.field}: ${v.message}`).join('; ')}`,
          );
      } else {
        const violations = s.update(endpoint, record);
        if (violations.length > 0)
          errors.push(`record ${index}: ${violations.map((v) => `${v.field}: ${v.message}`).join('; ')}`);
      }
    });
    reply(errors.length > 0 ? errors.join(' | ') : undefined);
  }

  function inspect(res: ServerResponse, path: string): void {
    if (sink) {
      if (path === '/_sandbox/stats') return send(res, 200, sink.stats());
      return send(res, 404, { error: 'sink mode keeps only /_sandbox/stats' });
    }
    const s = state as SandboxState;
    switch (path) {
      case '/_sandbox/stats':
        return send(res, 200, s.stats);
      case '/_sandbox/events': {
        res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
        for (const event of s.storedEvents()) res.write(`${JSON.stringify(event)}\n`);
        res.end();
        return;
      }
      case '/_sandbox/clusters':
        return send(res, 200, { mode: options.mode, clusters: s.clusters() });
      case '/_sandbox/profiles':
        return send(res, 200, Object.fromEntries(s.profiles));
      case '/_sandbox/groups':
        return send(res, 200, Object.fromEntries(s.groups));
      default:
        return send(res, 404, { error: `no such inspection endpoint: ${path}` });
    }
  }

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    void (async () => {
      try {
        if (path.startsWith('/_sandbox/')) {
          if (req.method === 'POST' && path === '/_sandbox/reset') {
            state?.reset();
            sink?.reset();
            return send(res, 200, { status: 'reset' });
          }
          return inspect(res, path);
        }
        if (req.method !== 'POST' || !['/import', '/track', '/engage', '/groups'].includes(path)) {
          return send(res, 404, {
            error: `the sandbox speaks POST /import, /track, /engage and /groups, not ${req.method} ${path}`,
          });
        }
        if (state) state.stats.requests++;
        const fault = pickFault();
        if (fault !== undefined) return await injectFault(fault, req, res);
        if (path === '/import') return await handleImport(req, res, url);
        if (sink) return send(res, 404, { error: 'sink mode accepts /import only' });
        return await handleTokenEndpoint(req, res, url, path.slice(1) as 'track' | 'engage' | 'groups');
      } catch (error) {
        if (error instanceof BodyError)
          return send(res, error.status, {
            code: error.status,
            error: error.message,
            status: error.status === 413 ? 'Request Entity Too Large' : 'Bad Request',
          });
        if (error instanceof SyntaxError)
          return send(res, 400, {
            code: 400,
            error: `invalid JSON: ${error.message}`,
            status: 'Bad Request',
          });
        send(res, 500, { code: 500, error: String(error), status: 'Internal Server Error' });
      }
    })();
  };
  const server: Server = options.tls
    ? createTlsServer({ cert: options.tls.cert, key: options.tls.key }, handler)
    : createServer(handler);
  server.keepAliveTimeout = 65_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${options.tls ? 'https' : 'http'}://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of pendingSlow) clearTimeout(timer);
        server.closeAllConnections();
        server.close(() => {
          state?.close();
          resolve();
        });
      }),
  };
}
