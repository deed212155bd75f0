import type { SegmentCallFields } from '@idmerge/shared/mapping';
import {
  APIError,
  InvalidAuthenticationError,
  MultiStatusResponse,
  PayloadValidationError,
  RetryableError,
  type ActionDefinition,
  type RequestClient,
} from '../actions-core.js';
import {
  deliverCalls,
  deliverPrepared,
  type ItemResult,
  type PayloadSink,
  type Prepared,
} from '../deliver.js';
import type { Settings } from '../settings.js';

/**
 * The `perform` / `performBatch` wrappers of the actions: they hand the calls (or prepared
 * payloads) an action builds to delivery, and turn the per-item results into what actions-core
 * expects: a typed error for a single event, one multi-status entry per item for a batch.
 */

type RetryableStatus = NonNullable<ConstructorParameters<typeof RetryableError>[1]>;
type Json = Parameters<
  InstanceType<typeof MultiStatusResponse>['setSuccessResponseAtIndex']
>[1] extends infer R
  ? R extends { sent: infer S }
    ? S
    : never
  : never;

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

type Performers<P> = Pick<ActionDefinition<Settings, P>, 'perform' | 'performBatch'>;

/**
 * For an action that rebuilds a Segment call from its payload (`toCall`) and hands it to the shared
 * mapping layer; with a sink, payloads go to it instead of Mixpanel.
 */
export function callPerformers<P>(
  toCall: (payload: P) => SegmentCallFields,
  sink?: PayloadSink,
): Performers<P> {
  return {
    perform: async (request, { settings, payload }) =>
      performPrepared(await deliverCalls(request, settings, [toCall(payload)], sink)).sent,
    performBatch: async (request, { settings, payload }) =>
      multiStatus(await deliverCalls(request, settings, payload.map(toCall), sink)),
  };
}

/** For an action that prepares its payloads itself (`prepare`), e.g. profile operations. */
export function preparedPerformers<P>(
  prepare: (payload: P, settings: Settings) => Prepared,
  sink?: PayloadSink,
): Performers<P> {
  const deliver = (request: RequestClient, settings: Settings, items: P[]) =>
    deliverPrepared(
      request,
      settings,
      items.map((item) => prepare(item, settings)),
      items,
      sink,
    );
  return {
    perform: async (request, { settings, payload }) =>
      performPrepared(await deliver(request, settings, [payload])).sent,
    performBatch: async (request, { settings, payload }) =>
      multiStatus(await deliver(request, settings, payload)),
  };
}
