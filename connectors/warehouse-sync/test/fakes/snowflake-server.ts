import { createHash, createPublicKey, randomBytes, randomUUID, verify, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { z } from 'zod';
import {
  bindValue,
  failureFor,
  installDialect,
  rowTypeOf,
  wireValue,
  type RowType,
  type SnowflakeFailure,
} from './snowflake-dialect.js';

/**
 * A small Snowflake stand-in on 127.0.0.1 that speaks the driver's HTTP protocol (the one
 * snowflake-sdk uses), so the real driver runs end to end: login, queries with bind variables
 * executed on an in-memory DuckDB, results inline and in gzip chunks, result polling, errors with
 * Snowflake's codes, logout. Session tokens are checked on every request.
 */
export interface FakeSnowflakeOptions {
  account: string;
  /** Each user signs in with a password, or a key pair (the public half, PEM). */
  users: Record<string, { password?: string; publicKey?: string }>;
  /** Rows answered inline in the query response; the rest go into chunks. */
  inlineRows?: number;
  /** Rows per chunk. */
  chunkRows?: number;
}

export interface FakeSnowflake {
  /** `http://127.0.0.1:<port>`, the account's access URL. */
  url: string;
  /** The warehouse's data: create and fill tables here. */
  warehouse: DuckDBConnection;
  /** Every request, as `METHOD /path`. */
  requests: string[];
  /** Every statement run, with its bind values. */
  statements: { sqlText: string; binds: DuckDBValue[]; describeOnly: boolean }[];
  /** Chunk downloads served. */
  chunkDownloads: string[];
  /** Requests no route answered. */
  unexpected: string[];
  openSessions(): number;
  /** Answer "in progress" to the next statement matching `pattern`, `polls` times, before its result. */
  answerInProgress(pattern: RegExp, polls: number): void;
  close(): Promise<void>;
}

/** Session parameters the service reports; the driver formats results with them. */
const PARAMETERS = [
  { name: 'TIMESTAMP_OUTPUT_FORMAT', value: 'YYYY-MM-DD HH24:MI:SS.FF3 TZHTZM' },
  { name: 'TIMESTAMP_NTZ_OUTPUT_FORMAT', value: 'YYYY-MM-DD HH24:MI:SS.FF3' },
  { name: 'TIMESTAMP_LTZ_OUTPUT_FORMAT', value: '' },
  { name: 'TIMESTAMP_TZ_OUTPUT_FORMAT', value: '' },
  { name: 'DATE_OUTPUT_FORMAT', value: 'YYYY-MM-DD' },
  { name: 'TIME_OUTPUT_FORMAT', value: 'HH24:MI:SS' },
  { name: 'BINARY_OUTPUT_FORMAT', value: 'HEX' },
  { name: 'TIMEZONE', value: 'America/Los_Angeles' },
  { name: 'JS_TREAT_INTEGER_AS_BIGINT', value: false },
  { name: 'CLIENT_SESSION_KEEP_ALIVE', value: false },
  { name: 'CLIENT_SESSION_KEEP_ALIVE_HEARTBEAT_FREQUENCY', value: 3600 },
  { name: 'CLIENT_STAGE_ARRAY_BINDING_THRESHOLD', value: 65280 },
  { name: 'CLIENT_RESULT_PREFETCH_THREADS', value: 1 },
  { name: 'AUTOCOMMIT', value: true },
];

const loginSchema = z.object({
  data: z.object({
    ACCOUNT_NAME: z.string(),
    LOGIN_NAME: z.string(),
    PASSWORD: z.string().optional(),
    AUTHENTICATOR: z.string().optional(),
    TOKEN: z.string().optional(),
    SESSION_PARAMETERS: z.record(z.string(), z.unknown()).optional(),
  }),
});

const querySchema = z.object({
  sqlText: z.string(),
  bindings: z.record(z.string(), z.object({ type: z.string(), value: z.string().nullable() })).optional(),
  describeOnly: z.boolean().optional(),
});

const jwtPayloadSchema = z.object({ iss: z.string(), sub: z.string(), exp: z.number() });

type Parameter = { name: string; value: unknown };

/** The session's parameters: the service's defaults, with those the client set at login. */
function sessionParameters(requested: Record<string, unknown> = {}): Parameter[] {
  const merged = new Map<string, unknown>(PARAMETERS.map((p) => [p.name, p.value]));
  for (const [name, value] of Object.entries(requested)) merged.set(name, value);
  return [...merged].map(([name, value]) => ({ name, value }));
}

interface Session {
  user: string;
  parameters: Parameter[];
  database: DuckDBConnection;
  /** Statements of one session run one at a time. */
  queue: Promise<unknown>;
}

interface StoredResult {
  body: unknown;
  pendingPolls: number;
  chunks: (string | null)[][][];
  qrmk: string;
}

function failure(code: string, message: string, data: Record<string, unknown> = {}) {
  return { data, code, message, success: false, headers: null };
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  response.end(text);
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  for await (const part of request) parts.push(part as Buffer);
  let body = Buffer.concat(parts);
  // The driver gzips request bodies (Content-Encoding: gzip), except when it loses that race.
  if (body[0] === 0x1f && body[1] === 0x8b) body = gunzipSync(body);
  return body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
}

const fingerprint = (key: KeyObject) =>
  `SHA256:${createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('base64')}`;

/** Checks a key-pair login token: signed RS256 by the user's key, naming the account and user. */
function validJwt(token: string, publicKeyPem: string, account: string, user: string): boolean {
  const [header, payload, signature] = token.split('.');
  if (header === undefined || payload === undefined || signature === undefined) return false;
  const key = createPublicKey(publicKeyPem);
  const signed = verify(
    'RSA-SHA256',
    Buffer.from(`${header}.${payload}`),
    key,
    Buffer.from(signature, 'base64url'),
  );
  if (!signed) return false;
  const claims = jwtPayloadSchema.safeParse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
  if (!claims.success) return false;
  const subject = `${account.toUpperCase()}.${user.toUpperCase()}`;
  return (
    claims.data.sub === subject &&
    claims.data.iss === `${subject}.${fingerprint(key)}` &&
    claims.data.exp > Date.now()
  );
}

export async function startFakeSnowflake(options: FakeSnowflakeOptions): Promise<FakeSnowflake> {
  const instance = await DuckDBInstance.create(':memory:');
  const warehouse = await instance.connect();
  await installDialect(warehouse);
  const inlineRows = options.inlineRows ?? 1000;
  const chunkRows = options.chunkRows ?? 1000;
  const sessions = new Map<string, Session>();
  const results = new Map<string, StoredResult>();
  const slow: { pattern: RegExp; polls: number }[] = [];
  let baseUrl = '';
  let sessionIds = 1000;

  const requests: string[] = [];
  const statements: FakeSnowflake['statements'] = [];
  const chunkDownloads: string[] = [];
  const unexpected: string[] = [];

  async function login(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const { data } = loginSchema.parse(await readJson(request));
    const user = options.users[data.LOGIN_NAME];
    const accountMatches = data.ACCOUNT_NAME.toUpperCase() === options.account.toUpperCase();
    if (data.AUTHENTICATOR === 'SNOWFLAKE_JWT') {
      const valid =
        accountMatches &&
        user?.publicKey !== undefined &&
        data.TOKEN !== undefined &&
        validJwt(data.TOKEN, user.publicKey, options.account, data.LOGIN_NAME);
      if (!valid) return sendJson(response, 200, failure('390144', 'JWT token is invalid.'));
    } else if (!accountMatches || user?.password === undefined || data.PASSWORD !== user.password) {
      return sendJson(
        response,
        200,
        failure('390100', 'Incorrect username or password was specified.', {
          nextAction: 'RETRY_LOGIN',
          authnMethod: 'USERNAME_PASSWORD',
          loginName: data.LOGIN_NAME,
        }),
      );
    }
    const token = `session-${randomBytes(16).toString('hex')}`;
    const parameters = sessionParameters(data.SESSION_PARAMETERS);
    const database = await instance.connect();
    sessions.set(token, { user: data.LOGIN_NAME, parameters, database, queue: Promise.resolve() });
    sendJson(response, 200, {
      data: {
        masterToken: `master-${randomBytes(16).toString('hex')}`,
        token,
        validityInSeconds: 3600,
        masterValidityInSeconds: 14400,
        displayUserName: data.LOGIN_NAME.toUpperCase(),
        serverVersion: '9.0.0-fake',
        firstLogin: false,
        remMeToken: null,
        remMeValidityInSeconds: 0,
        healthCheckInterval: 45,
        newClientForUpgrade: null,
        sessionId: sessionIds++,
        parameters,
        sessionInfo: {
          databaseName: 'FAKE_DB',
          schemaName: 'PUBLIC',
          warehouseName: 'FAKE_WH',
          roleName: 'PUBLIC',
        },
        idToken: null,
        idTokenValidityInSeconds: 0,
        responseData: null,
      },
      code: null,
      message: null,
      success: true,
    });
  }

  function sessionOf(request: IncomingMessage): [string, Session] | undefined {
    const token = /^Snowflake Token="([^"]+)"$/.exec(request.headers.authorization ?? '')?.[1];
    const session = token === undefined ? undefined : sessions.get(token);
    return token === undefined || session === undefined ? undefined : [token, session];
  }

  async function run(
    session: Session,
    sqlText: string,
    binds: DuckDBValue[],
    describeOnly: boolean,
  ): Promise<{ rowtype: RowType[]; rows: (string | null)[][] }> {
    const prepared = await session.database.prepare(sqlText);
    if (describeOnly) {
      const rowtype = Array.from({ length: prepared.columnCount }, (_, i) =>
        rowTypeOf(prepared.columnName(i), prepared.columnType(i)),
      );
      return { rowtype, rows: [] };
    }
    prepared.bind(binds);
    const reader = await prepared.runAndReadAll();
    const names = reader.columnNames();
    const rowtype = reader.columnTypes().map((type, i) => rowTypeOf(names[i] ?? `C${i}`, type));
    const rows = reader
      .getRows()
      .map((row) => row.map((value, i) => wireValue(value, rowtype[i] as RowType)));
    return { rowtype, rows };
  }

  function failedBody(queryId: string, problem: SnowflakeFailure) {
    return failure(problem.code, problem.message, {
      internalError: false,
      errorCode: problem.code,
      age: 0,
      sqlState: problem.sqlState,
      queryId,
      line: -1,
      pos: -1,
      type: 'COMPILATION',
    });
  }

  async function query(session: Session, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = querySchema.parse(await readJson(request));
    const queryId = randomUUID();
    const describeOnly = body.describeOnly ?? false;
    const stored: StoredResult = {
      body: undefined,
      pendingPolls: 0,
      chunks: [],
      qrmk: randomBytes(32).toString('base64'),
    };
    try {
      const binds = Object.entries(body.bindings ?? {})
        .sort(([a], [b]) => Number(a) - Number(b))
        .map(([, bind]) => bindValue(bind));
      statements.push({ sqlText: body.sqlText, binds, describeOnly });
      const execute = () => run(session, body.sqlText, binds, describeOnly);
      const next = session.queue.then(execute, execute);
      session.queue = next.catch(() => undefined);
      const { rowtype, rows } = await next;
      const inline = rows.slice(0, inlineRows);
      for (let start = inlineRows; start < rows.length; start += chunkRows)
        stored.chunks.push(rows.slice(start, start + chunkRows));
      stored.body = {
        data: {
          parameters: session.parameters,
          rowtype,
          rowset: inline,
          total: rows.length,
          returned: rows.length,
          queryId,
          databaseProvider: null,
          finalDatabaseName: 'FAKE_DB',
          finalSchemaName: 'PUBLIC',
          finalWarehouseName: 'FAKE_WH',
          finalRoleName: 'PUBLIC',
          numberOfBinds: binds.length,
          arrayBindSupported: false,
          statementTypeId: 4096,
          version: 1,
          sendResultTime: Date.now(),
          queryResultFormat: 'json',
          ...(stored.chunks.length > 0
            ? {
                qrmk: stored.qrmk,
                chunks: stored.chunks.map((chunk, index) => ({
                  url: `${baseUrl}/chunks/${queryId}/${index}`,
                  rowCount: chunk.length,
                  uncompressedSize: JSON.stringify(chunk).length,
                  compressedSize: 0,
                })),
              }
            : {}),
        },
        code: null,
        message: null,
        success: true,
      };
    } catch (error) {
      stored.body = failedBody(queryId, failureFor(error));
    }
    const slowIndex = slow.findIndex((s) => s.pattern.test(body.sqlText));
    if (slowIndex >= 0) {
      stored.pendingPolls = slow[slowIndex]?.polls ?? 0;
      slow.splice(slowIndex, 1);
    }
    results.set(queryId, stored);
    answer(queryId, stored, response);
  }

  function answer(queryId: string, stored: StoredResult, response: ServerResponse): void {
    if (stored.pendingPolls > 0) {
      stored.pendingPolls--;
      return sendJson(response, 200, {
        data: {
          queryId,
          getResultUrl: `/queries/${queryId}/result`,
          queryAbortsAfterSecs: 300,
          progressDesc: null,
        },
        code: '333333',
        message: 'Query execution in progress',
        success: true,
      });
    }
    sendJson(response, 200, stored.body);
  }

  function chunk(queryId: string, index: number, request: IncomingMessage, response: ServerResponse): void {
    const stored = results.get(queryId);
    const rows = stored?.chunks[index];
    // Chunks live in cloud storage, encrypted with the result's key: the driver must send it.
    if (stored === undefined || rows === undefined) {
      response
        .writeHead(404, { 'Content-Type': 'application/xml' })
        .end('<Error><Code>NoSuchKey</Code></Error>');
      return;
    }
    if (request.headers['x-amz-server-side-encryption-customer-key'] !== stored.qrmk) {
      response
        .writeHead(400, { 'Content-Type': 'application/xml' })
        .end('<Error><Code>InvalidRequest</Code></Error>');
      return;
    }
    chunkDownloads.push(`${queryId}/${index}`);
    const body = gzipSync(rows.map((row) => JSON.stringify(row)).join(','));
    response.writeHead(200, {
      'Content-Type': 'binary/octet-stream',
      'Content-Encoding': 'gzip',
      'Content-Length': body.length,
    });
    response.end(body);
  }

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', baseUrl);
    const method = request.method ?? 'GET';
    requests.push(`${method} ${url.pathname}`);
    if (method === 'POST' && url.pathname === '/session/v1/login-request') return login(request, response);
    const chunkPath = /^\/chunks\/([\w-]+)\/(\d+)$/.exec(url.pathname);
    if (method === 'GET' && chunkPath)
      return chunk(chunkPath[1] ?? '', Number(chunkPath[2]), request, response);

    const found = sessionOf(request);
    if (found === undefined) {
      request.resume(); // drain the body
      return sendJson(response, 401, failure('390104', 'Authentication token is invalid or has expired.'));
    }
    const [token, session] = found;
    if (method === 'POST' && url.pathname === '/queries/v1/query-request')
      return query(session, request, response);
    const resultPath = /^\/queries\/([\w-]+)\/result$/.exec(url.pathname);
    const stored = resultPath ? results.get(resultPath[1] ?? '') : undefined;
    if (method === 'GET' && resultPath && stored) return answer(resultPath[1] ?? '', stored, response);
    if (method === 'POST' && url.pathname === '/session' && url.searchParams.get('delete') === 'true') {
      sessions.delete(token);
      session.database.closeSync();
      return sendJson(response, 200, { data: null, code: null, message: null, success: true });
    }
    if (method === 'POST' && (url.pathname === '/telemetry/send' || url.pathname === '/session/heartbeat')) {
      request.resume();
      return sendJson(response, 200, { data: null, code: null, message: null, success: true });
    }
    unexpected.push(`${method} ${url.pathname}`);
    sendJson(response, 404, failure('404', `the fake Snowflake has no ${method} ${url.pathname}`));
  }

  const server = createServer((request, response) => {
    route(request, response).catch((error: unknown) => {
      unexpected.push(`${request.method} ${request.url}: ${String(error)}`);
      if (!response.headersSent) sendJson(response, 500, failure('500', String(error)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: baseUrl,
    warehouse,
    requests,
    statements,
    chunkDownloads,
    unexpected,
    openSessions: () => sessions.size,
    answerInProgress(pattern, polls) {
      slow.push({ pattern, polls });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const session of sessions.values()) session.database.closeSync();
      warehouse.closeSync();
      instance.closeSync();
    },
  };
}
