import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defaultValues, Destination } from '../actions-core.js';
import type { PayloadSink } from '../deliver.js';
import { createDestination } from '../destination.js';
import { ACTION_FOR_CALL_TYPE, type CallType } from '../routing.js';
import type { Settings } from '../settings.js';
import { BATCH_LIMIT_BYTES, BodyError, CALL_LIMIT_BYTES, readBody } from './body.js';

export interface IntakeOptions {
  port: number;
  host?: string;
  /** When set, calls must carry it as the Basic-auth username (Segment's write key). */
  writeKey?: string;
  settings: Settings;
  /** Where mapped payloads go (the shared sender's send). */
  sink: PayloadSink;
  /** Keeps a call that was refused (the shared sender's reject: dead-letter with reason). */
  reject: (original: unknown, reason: string, field?: string) => Promise<void>;
  now?: () => Date;
}

export interface Intake {
  url: string;
  port: number;
  stats: { calls: number; accepted: number; rejected: number };
  close(): Promise<void>;
}

const CALL_TYPES = new Set<string>(Object.keys(ACTION_FOR_CALL_TYPE));

interface ItemError {
  index: number;
  messageId?: string;
  message: string;
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  response.end(text);
}

function writeKeyOf(request: IncomingMessage, body: Record<string, unknown> | undefined): string | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon === -1 ? decoded : decoded.slice(0, colon);
  }
  return typeof body?.writeKey === 'string' ? body.writeKey : undefined;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A Segment-compatible HTTP tracking API (`POST /v1/track|identify|page|screen|alias|group|batch`)
 * that runs every call through the destination's own actions (actions-core field mapping, then the
 * shared mapping layer) and hands the payloads to the sink. Bad calls get a 400 naming what is wrong
 * and are kept through `reject`; a full sink queue delays the answer (backpressure).
 */
export async function startIntake(options: IntakeOptions): Promise<Intake> {
  const destination = new Destination<Settings>(createDestination({ sink: options.sink }));
  const mappings = new Map<string, Record<string, unknown>>();
  for (const [slug, action] of Object.entries(destination.definition.actions)) {
    mappings.set(slug, defaultValues(action.fields) as Record<string, unknown>);
  }
  const stats = { calls: 0, accepted: 0, rejected: 0 };
  const now = options.now ?? (() => new Date());

  async function runCalls(calls: Record<string, unknown>[]): Promise<ItemError[]> {
    const errors: ItemError[] = [];
    const groups = new Map<string, number[]>();
    calls.forEach((call, index) => {
      const slug = ACTION_FOR_CALL_TYPE[call.type as CallType];
      const list = groups.get(slug) ?? [];
      list.push(index);
      groups.set(slug, list);
    });
    for (const [slug, indexes] of groups) {
      const events = indexes.map((index) => calls[index]) as unknown as Parameters<
        typeof destination.executeBatch
      >[1]['events'];
      const results = await destination.executeBatch(slug, {
        events,
        mapping: (mappings.get(slug) ?? {}) as Parameters<typeof destination.executeBatch>[1]['mapping'],
        settings: options.settings,
      });
      results.forEach((result, position) => {
        const index = indexes[position];
        if (index === undefined || (result.status >= 200 && result.status < 300)) return;
        const message = 'errormessage' in result ? result.errormessage : `status ${result.status}`;
        const messageId = calls[index]?.messageId;
        errors.push({ index, message, ...(typeof messageId === 'string' ? { messageId } : {}) });
      });
    }
    return errors.sort((a, b) => a.index - b.index);
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const match = /^\/v1\/(track|identify|page|screen|alias|group|batch)\/?(?:\?.*)?$/.exec(
      request.url ?? '',
    );
    if (request.method !== 'POST' || !match?.[1]) {
      send(response, 404, {
        success: false,
        message: 'not found: POST /v1/track|identify|page|screen|alias|group|batch',
      });
      return;
    }
    const kind = match[1];
    const text = await readBody(request, kind === 'batch' ? BATCH_LIMIT_BYTES : CALL_LIMIT_BYTES);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      send(response, 400, { success: false, message: 'Invalid JSON: the body is not valid JSON' });
      return;
    }
    if (!isRecord(body)) {
      send(response, 400, { success: false, message: 'Invalid JSON: the body must be a JSON object' });
      return;
    }
    if (options.writeKey !== undefined && writeKeyOf(request, body) !== options.writeKey) {
      send(response, 401, {
        success: false,
        message: 'Invalid write key: send it as the Basic-auth username',
      });
      return;
    }
    const receivedAt = now().toISOString();
    const refused: ItemError[] = [];
    const calls: Record<string, unknown>[] = [];
    const positions: number[] = [];
    const raw: unknown[] =
      kind === 'batch' ? (Array.isArray(body.batch) ? body.batch : []) : [{ ...body, type: kind }];
    if (kind === 'batch' && !Array.isArray(body.batch)) {
      send(response, 400, { success: false, message: 'a batch call needs a "batch" array of calls' });
      return;
    }
    raw.forEach((item, index) => {
      const messageId =
        isRecord(item) && typeof item.messageId === 'string' ? { messageId: item.messageId } : {};
      if (!isRecord(item) || typeof item.type !== 'string' || !CALL_TYPES.has(item.type)) {
        refused.push({
          index,
          ...messageId,
          message: 'type must be one of track, identify, page, screen, alias, group',
        });
      } else if (Buffer.byteLength(JSON.stringify(item)) > CALL_LIMIT_BYTES) {
        refused.push({ index, ...messageId, message: `Exceeded payload limit: a call may be at most 32 KB` });
      } else {
        const call: Record<string, unknown> = { ...item, receivedAt: item.receivedAt ?? receivedAt };
        if (isRecord(body.context) && !isRecord(item.context)) call.context = body.context;
        calls.push(call);
        positions.push(index);
      }
    });
    const failed = await runCalls(calls);
    for (const error of failed) refused.push({ ...error, index: positions[error.index] ?? error.index });
    refused.sort((a, b) => a.index - b.index);
    stats.calls += raw.length;
    stats.rejected += refused.length;
    stats.accepted += raw.length - refused.length;
    for (const error of refused) await options.reject(raw[error.index], error.message, undefined);
    if (refused.length === 0) {
      send(response, 200, { success: true });
      return;
    }
    const first = refused[0];
    send(response, 400, {
      success: false,
      message:
        kind === 'batch'
          ? `${refused.length} of ${raw.length} calls were refused (the others were accepted); first: call ${first?.index}: ${first?.message}`
          : (first?.message ?? 'refused'),
      errors: refused,
    });
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (error instanceof BodyError)
        send(response, error.status, { success: false, message: error.message });
      else
        send(response, 500, {
          success: false,
          message: 'internal error; the call was not accepted, retry it',
        });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    stats,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
