import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { keyCheck, writeKeyOf } from './auth.js';
import { BATCH_LIMIT_BYTES, BodyError, CALL_LIMIT_BYTES, readBody } from './body.js';
import type { CheckedCall } from './calls.js';
import type { Prepared } from './prepared.js';
import { logRecordsOf } from './request-record.js';
import { PersistError, QueueFullError, type SegmentLog } from './log/segment-log.js';
import type { Logger } from './logger.js';
import { corsHeaders, routeOf } from './routes.js';
import type { CollectStats } from './stats.js';

export interface HttpOptions {
  port: number;
  host: string;
  /** Valid write keys; none: every call is accepted. */
  writeKeys: readonly string[];
  log: SegmentLog<Prepared[]>;
  /** Makes each call ready for delivery, kept with its record while that is in memory. */
  prepare?: (item: CheckedCall) => Prepared;
  stats: CollectStats;
  logger: Logger;
  /** Reasons the intake is not ready (empty: ready), for `/readyz`. */
  notReady: () => string[];
  /** The stats endpoint's body. */
  snapshot: () => unknown;
  /** Retry-After (seconds) on 503 at the queue cap. */
  retryAfterSeconds?: number;
}

export interface HttpServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  calls?: number;
  refused?: number;
  reason?: string;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const fail = (status: number, message: string, extra: Partial<Answer> = {}): Answer => ({
  status,
  body: { success: false, message },
  reason: message,
  ...extra,
});

/**
 * The HTTP side of collect: Segment's tracking API (see routes.ts) answered as Segment answers
 * it — 200 once the request's calls are in the log, flushed (refused calls included, kept with
 * their reason); 400 only for a body too large or not JSON; 503 with Retry-After when the calls
 * could not be kept (queue at its cap, disk failing), so the client sends them again. Plus
 * `/healthz`, `/readyz` and `/stats`, CORS on every answer, and one log line per request.
 */
export async function startHttp(options: HttpOptions): Promise<HttpServer> {
  const { log, stats, logger } = options;
  const validKey = keyCheck(options.writeKeys);
  const retryAfter = String(options.retryAfterSeconds ?? 5);

  async function answer(request: IncomingMessage): Promise<Answer> {
    const route = routeOf(request.url);
    if ('unknown' in route)
      return fail(
        404,
        `not found: ${route.unknown}; calls go to /v1/track|identify|page|screen|alias|group|batch|import or /v1/t|i|p|s|a|g|b`,
      );
    if ('probe' in route) {
      if (route.probe === 'healthz') return { status: 200, body: { ok: true } };
      if (route.probe === 'stats') return { status: 200, body: options.snapshot() };
      const reasons = options.notReady();
      return { status: reasons.length === 0 ? 200 : 503, body: { ready: reasons.length === 0, reasons } };
    }
    if (request.method !== 'POST') return fail(405, `${request.method} is not accepted here; POST the call`);
    const bytes = await readBody(request, route.kind === 'batch' ? BATCH_LIMIT_BYTES : CALL_LIMIT_BYTES);
    // analytics.js sends text/plain to stay a "simple" request: the body is JSON whatever the type.
    const text = bytes.toString('utf8');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return fail(400, 'Invalid JSON: the body is not valid JSON');
    }
    if (!isRecord(body)) return fail(400, 'Invalid JSON: the body must be a JSON object');
    if (options.writeKeys.length > 0 && !validKey(writeKeyOf(request, body)))
      return fail(401, 'Invalid write key: send it as the Basic-auth user name or as writeKey in the body');
    if (route.kind === 'batch' && !Array.isArray(body.batch))
      return fail(400, 'a batch needs a "batch" array of calls');
    const { records, memos, calls, refused } = logRecordsOf(
      { kind: route.kind, bytes, text, body, receivedAt: new Date().toISOString() },
      options.prepare,
    );
    const counts = { calls, refused: refused.length };
    try {
      if (records.length > 0) await log.append(records, memos);
    } catch (error) {
      if (error instanceof QueueFullError)
        return fail(503, `${error.message}; send again later`, {
          headers: { 'Retry-After': retryAfter },
          ...counts,
        });
      if (error instanceof PersistError)
        return fail(503, 'the calls could not be stored; send again later', {
          headers: { 'Retry-After': retryAfter },
          reason: error.message,
          ...counts,
        });
      throw error;
    }
    stats.accepted += calls;
    const first = refused[0];
    return {
      status: 200,
      body: { success: true },
      ...counts,
      ...(first !== undefined ? { reason: `call ${first.index}: ${first.reason}` } : {}),
    };
  }

  function send(request: IncomingMessage, response: ServerResponse, result: Answer, started: number): void {
    const text = JSON.stringify(result.body);
    response.writeHead(result.status, {
      ...corsHeaders(request, false),
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(text),
      ...result.headers,
    });
    response.end(text);
    stats.answered(result.status);
    logger.info('request', {
      method: request.method,
      path: request.url,
      status: result.status,
      ...(result.calls !== undefined ? { calls: result.calls } : {}),
      ...(result.refused ? { refused: result.refused } : {}),
      ms: Math.round(performance.now() - started),
      ...(result.reason !== undefined ? { reason: result.reason } : {}),
    });
  }

  const server = createServer((request, response) => {
    const started = performance.now();
    if (request.method === 'OPTIONS') {
      response.writeHead(204, corsHeaders(request, true));
      response.end();
      stats.answered(204);
      logger.info('request', { method: 'OPTIONS', path: request.url, status: 204 });
      return;
    }
    answer(request).then(
      (result) => send(request, response, result, started),
      (error: unknown) => {
        // The body was not read to its end: the rest of it would be taken as the next request on
        // this connection, so the answer closes it.
        if (error instanceof BodyError)
          return send(
            request,
            response,
            fail(error.status, error.message, { headers: { Connection: 'close' } }),
            started,
          );
        logger.error('request failed', {
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        });
        send(
          request,
          response,
          fail(500, 'internal error; nothing of the request was kept, send it again'),
          started,
        );
      },
    );
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const shown = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${shown}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        // Requests being answered finish (their calls are being flushed); idle sockets go now.
        const force = setTimeout(() => server.closeAllConnections(), 2000);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
