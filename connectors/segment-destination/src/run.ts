import {
  APIError,
  InvalidAuthenticationError,
  MultiStatusResponse,
  PayloadValidationError,
  RetryableError,
  type ActionDefinition,
  type InputField,
  type RequestClient,
} from './actions-core.js';
import { deliverCalls, type ItemResult, type PayloadSink } from './deliver.js';
import type { Settings } from './settings.js';

type RetryableStatus = NonNullable<ConstructorParameters<typeof RetryableError>[1]>;
type Json = Parameters<
  InstanceType<typeof MultiStatusResponse>['setSuccessResponseAtIndex']
>[1] extends infer R
  ? R extends { sent: infer S }
    ? S
    : never
  : never;

/** One Segment event through the mapping layer and Mixpanel; failures surface as typed errors. */
export async function performOne(
  request: RequestClient,
  settings: Settings,
  call: unknown,
  sink?: PayloadSink,
): Promise<ItemResult & { ok: true }> {
  return performPrepared(await deliverCalls(request, settings, [call], sink));
}

/** The result of a single-event perform, or the typed error that describes its failure. */
export function performPrepared(results: ItemResult[]): ItemResult & { ok: true } {
  const [result] = results;
  if (!result) throw new PayloadValidationError('nothing to send');
  if (result.ok) return result;
  switch (result.kind) {
    case 'invalid':
      throw new PayloadValidationError(result.message);
    case 'auth':
      throw new InvalidAuthenticationError(result.message);
    case 'retryable':
      throw new RetryableError(result.message, result.status as RetryableStatus);
    case 'rejected':
      throw new APIError(result.message, result.status);
  }
}

/** A batch: one multi-status entry per input event, in input order. */
export async function performMany(
  request: RequestClient,
  settings: Settings,
  calls: readonly unknown[],
  sink?: PayloadSink,
): Promise<InstanceType<typeof MultiStatusResponse>> {
  return multiStatus(await deliverCalls(request, settings, calls, sink));
}

/** One multi-status entry per input item, in input order. */
export function multiStatus(results: ItemResult[]): InstanceType<typeof MultiStatusResponse> {
  const response = new MultiStatusResponse();
  results.forEach((result, index) => {
    if (result.ok) {
      const sent = result.sent.map((payload) => payload.body) as unknown as Json;
      response.setSuccessResponseAtIndex(index, { status: 200, sent, body: 'accepted' });
    } else {
      response.setErrorResponseAtIndex(index, {
        status: result.status,
        errortype:
          result.kind === 'invalid'
            ? 'PAYLOAD_VALIDATION_FAILED'
            : result.kind === 'auth'
              ? 'INVALID_AUTHENTICATION'
              : undefined,
        errormessage: result.message,
      });
    }
  });
  return response;
}

/** Fields every action shares: who, when, and the message ID that becomes the insert ID. */
export const identityFields: Record<string, InputField> = {
  user_id: {
    label: 'User ID',
    description: 'The known user ID (Segment userId).',
    type: 'string',
    allowNull: true,
    default: { '@path': '$.userId' },
  },
  anonymous_id: {
    label: 'Anonymous ID',
    description:
      'The device / anonymous ID (Segment anonymousId). In Original ID Merge it must be a UUID v4 for $identify to merge.',
    type: 'string',
    allowNull: true,
    default: { '@path': '$.anonymousId' },
  },
  timestamp: {
    label: 'Timestamp',
    description: 'When the call happened (timestamp, else the time Segment received it).',
    type: 'string',
    default: {
      '@if': {
        exists: { '@path': '$.timestamp' },
        then: { '@path': '$.timestamp' },
        else: { '@path': '$.receivedAt' },
      },
    },
  },
  message_id: {
    label: 'Message ID',
    description: 'Segment messageId; becomes the $insert_id so retries are deduplicated.',
    type: 'string',
    default: { '@path': '$.messageId' },
  },
  context: {
    label: 'Context',
    description: 'Segment context (library, device, OS, IP …), turned into Mixpanel default properties.',
    type: 'object',
    default: { '@path': '$.context' },
  },
};

export const batchFields: Record<string, InputField> = {
  enable_batching: {
    label: 'Batch data to Mixpanel',
    description: 'Send events in gzipped batches; each event gets its own result.',
    type: 'boolean',
    default: true,
  },
  batch_size: {
    label: 'Batch size',
    description: 'Events per batch (at most 2000, Mixpanel’s /import limit).',
    type: 'number',
    minimum: 1,
    maximum: 2000,
    default: 1000,
    unsafe_hidden: true,
  },
};

/** The common part of a Segment call rebuilt from the action's mapped fields. */
/** The fields every call-based action shares (`identityFields` and `batchFields`). */
export interface CallPayload {
  [key: string]: unknown;
  user_id?: string | null;
  anonymous_id?: string | null;
  timestamp?: string;
  message_id?: string;
  context?: Record<string, unknown>;
  enable_batching?: boolean;
  batch_size?: number;
}

/**
 * `perform` and `performBatch` of an action that rebuilds a Segment call from its payload and
 * hands it to the shared mapping layer; with a sink, payloads go to it instead of Mixpanel.
 */
export function callPerformers<P extends CallPayload>(
  toCall: (payload: P) => Record<string, unknown>,
  sink?: PayloadSink,
): Pick<ActionDefinition<Settings, P>, 'perform' | 'performBatch'> {
  return {
    perform: async (request, { settings, payload }) =>
      (await performOne(request, settings, toCall(payload), sink)).sent,
    performBatch: (request, { settings, payload }) =>
      performMany(request, settings, payload.map(toCall), sink),
  };
}

export function callBase(payload: CallPayload): Record<string, unknown> {
  const call: Record<string, unknown> = {};
  if (payload.user_id != null) call.userId = payload.user_id;
  if (payload.anonymous_id != null) call.anonymousId = payload.anonymous_id;
  if (payload.timestamp !== undefined) call.timestamp = payload.timestamp;
  if (payload.message_id !== undefined) call.messageId = payload.message_id;
  if (payload.context !== undefined) call.context = payload.context;
  return call;
}
