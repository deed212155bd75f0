import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { IdMergeMode } from '../payload/index.js';
import { LIMITS } from '../validation/index.js';
import { apiError, type Answer } from './answer.js';
import { BodyError, drain } from './body.js';
import { corsHeaders, preflightAnswer } from './cors.js';
import type { Exchange, SandboxContext } from './exchange.js';
import { isRefusal, refusalAnswer, SLOW_ANSWER } from './fault-answers.js';
import { faultPicker, parseFaultSpec, seededRandom, type FaultKind } from './faults.js';
import { formatLogLine, type LogEntry } from './request-log.js';
import { RequestStats } from './request-stats.js';
import { LookupTables } from './lookup-tables.js';
import { findRoute } from './routes.js';
import { createSink } from './sink.js';
import { SandboxState } from './state.js';

export interface SandboxOptions {
  port: number;
  host?: string;
  mode: IdMergeMode;
  projectToken?: string;
  serviceAccount?: { username: string; secret: string; projectId: string };
  apiSecret?: string;
  /** e.g. `429=0.1,500=0.05,503=0.02,reset=0.02,slow=0.01,lost=0.01` */
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
  /** Lookup-table replaces taken per rolling 24 hours before 429 (default Mixpanel's 100). */
  lookupTableReplacesPerDay?: number;
  /** Receives one line per request (the CLI writes them to stderr). */
  log?: (line: string) => void;
}

export interface RunningSandbox {
  url: string;
  port: number;
  /** Stops accepting, lets requests in flight finish (a few seconds at most), then closes. */
  close(): Promise<void>;
}

/**
 * The URL of a GET carries its records (`/track?data=<base64>` from the Node library): large enough
 * for one event of the largest size Mixpanel takes, base64-encoded.
 */
const MAX_HEADER_BYTES = Math.ceil((LIMITS.maxEventBytes * 4) / 3) + 64 * 1024;
/** How long close() waits for requests in flight before it cuts their connections. */
const CLOSE_GRACE_MS = 3_000;

function errorAnswer(error: unknown): Answer {
  if (error instanceof BodyError) return apiError(error.status, error.message);
  return apiError(500, `the sandbox failed: ${error instanceof Error ? error.message : String(error)}`);
}

function write(res: ServerResponse, answer: Answer, cors: Record<string, string>): void {
  res.writeHead(answer.status, { 'Content-Type': answer.contentType, ...cors, ...answer.headers });
  if (typeof answer.body === 'string') {
    res.end(answer.body);
    return;
  }
  for (const chunk of answer.body) res.write(chunk);
  res.end();
}

/**
 * A local, Mixpanel-compatible ingestion server (Mixpanel's ingestion API): `/import`, `/track`,
 * `/engage`, `/groups` as Mixpanel and its own client libraries speak them, identity resolution with
 * the core model, seeded faults, and inspection under `/_sandbox/`. Every answer carries CORS
 * headers; every request is counted and logged.
 */
export async function startSandbox(options: SandboxOptions): Promise<RunningSandbox> {
  const context: SandboxContext = {
    mode: options.mode,
    credentials: {
      projectToken: options.projectToken,
      serviceAccount: options.serviceAccount,
      apiSecret: options.apiSecret,
    },
    state: options.sink ? undefined : new SandboxState(options.mode, options.dataDir),
    sink: options.sink ? createSink() : undefined,
    requests: new RequestStats(),
    lookupTables: new LookupTables(options.lookupTableReplacesPerDay),
  };
  const pickFault = faultPicker(
    options.faults ? parseFaultSpec(options.faults) : {},
    seededRandom(options.seed ?? 1),
  );
  const slowMs = options.clientTimeoutMs ?? 10_000;
  const pendingSlow = new Map<NodeJS.Timeout, ServerResponse>();
  let inFlight = 0;
  let idle: (() => void) | undefined;

  /**
   * The answer to a request, and the fault injected into it. `reset` reads nothing; `slow` and the
   * refusals read the body and ingest nothing; `lost` is handled in full and its answer dropped.
   */
  async function answerFor(ex: Exchange, method: string): Promise<{ answer?: Answer; fault?: FaultKind }> {
    if (method === 'OPTIONS') return { answer: preflightAnswer(ex.req) };
    const found = findRoute(method, ex.path);
    if (!('handle' in found)) {
      await drain(ex.req);
      return { answer: found };
    }
    const fault = found.kind === 'ingest' ? pickFault() : undefined;
    if (fault === 'reset') return { fault };
    if (fault === 'slow') {
      await drain(ex.req);
      return { fault };
    }
    if (fault !== undefined && isRefusal(fault)) {
      // A refusal ingests nothing: the body is read and thrown away.
      await drain(ex.req);
      return { answer: refusalAnswer(fault, options.retryAfterSeconds), fault };
    }
    return { answer: await found.handle(ex), fault };
  }

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const ex: Exchange = { req, url, path, receivedMs: Date.now(), sandbox: context };
    inFlight++;
    const done = (outcome: LogEntry['outcome'], answer?: Answer) => {
      if (outcome !== 'slow') context.requests.count(path, method, outcome);
      options.log?.(
        formatLogLine({
          method,
          path: url.pathname,
          outcome,
          records: answer?.records,
          accepted: answer?.accepted,
          reason: answer?.reason,
          ms: performance.now() - started,
        }),
      );
      if (--inFlight === 0) idle?.();
    };
    const cors = corsHeaders(req);
    void (async () => {
      let result: { answer?: Answer; fault?: FaultKind };
      try {
        result = await answerFor(ex, method);
      } catch (error) {
        result = { answer: errorAnswer(error) };
      }
      const { answer, fault } = result;
      if (fault === 'reset' || fault === 'lost') {
        req.socket.destroy();
        done(fault, answer);
        return;
      }
      if (fault === 'slow') {
        const timer = setTimeout(() => {
          pendingSlow.delete(timer);
          write(res, SLOW_ANSWER, cors);
          done(SLOW_ANSWER.status, SLOW_ANSWER);
        }, slowMs);
        pendingSlow.set(timer, res);
        return;
      }
      const final = answer ?? errorAnswer(new Error('no answer'));
      write(res, final, cors);
      done(final.status, final);
    })();
  };
  const server: Server = options.tls
    ? createTlsServer(
        { cert: options.tls.cert, key: options.tls.key, maxHeaderSize: MAX_HEADER_BYTES },
        handler,
      )
    : createServer({ maxHeaderSize: MAX_HEADER_BYTES }, handler);
  server.keepAliveTimeout = 65_000;
  // Requests Node's parser refuses before any handler runs (a URL over the header limit, garbage)
  // are answered, counted and logged like every other refused request.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || !error.code?.startsWith('HPE_')) {
      socket.destroy();
      return;
    }
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const message =
      status === 431
        ? `the request line and headers are over ${MAX_HEADER_BYTES} bytes; send large batches as a POST body`
        : `the request is not valid HTTP (${error.code})`;
    const body = JSON.stringify({
      code: status,
      error: message,
      status: status === 431 ? 'Request Header Fields Too Large' : 'Bad Request',
    });
    socket.end(
      `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Access-Control-Allow-Origin: *\r\nConnection: close\r\n\r\n${body}`,
    );
    context.requests.count('?', 'UNPARSED', status);
    options.log?.(formatLogLine({ method: '-', path: '-', outcome: status, reason: message, ms: 0 }));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${options.tls ? 'https' : 'http'}://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Slow answers still waiting are dropped: they were never going to come in time.
      for (const [timer, res] of pendingSlow) {
        clearTimeout(timer);
        res.socket?.destroy();
        inFlight--;
      }
      pendingSlow.clear();
      server.closeIdleConnections();
      if (inFlight > 0) {
        await Promise.race([
          new Promise<void>((resolve) => (idle = resolve)),
          new Promise<void>((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref()),
        ]);
      }
      server.closeAllConnections();
      await closed;
      context.state?.close();
    },
  };
}
