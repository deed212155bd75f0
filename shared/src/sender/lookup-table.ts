import { readLookupTableRefusal, type FailedRecord } from './answers.js';
import { SPEC_BACKOFF } from './backoff.js';
import { ConfigError, redact, type MixpanelConfig } from './config.js';
import { basicAuth } from './request.js';
import {
  decideRetry,
  FIRST_ATTEMPT,
  type Attempts,
  type RequestOutcome,
  type RetrySettings,
} from './retry.js';
import { putFile, TransportError } from './transport.js';

/** A lookup table's CSV, written to a file (so it is streamed, never held in memory). */
export interface LookupTableUpload {
  tableId: string;
  file: string;
  bytes: number;
}

export interface LookupTableOptions {
  retry?: Partial<RetrySettings>;
  /** Longest silence on the connection (default 10 min: Mixpanel answers once it has parsed and stored the whole table). */
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
  /** Called before each wait, with why and how long (for the run's output). */
  onWait?: (why: string, ms: number) => void;
  /** Sends one request; the default streams the file over HTTP(S). Tests need no other. */
  put?: typeof putFile;
}

/**
 * What became of a replace. `refused`: Mixpanel answered and did not replace the table (the rows
 * it named, at most 10, in `failedRows`); `failed`: no answer that settles it (credentials refused,
 * an outage or a rate limit outlasting the retries); sending again later can succeed.
 */
export type LookupTableOutcome =
  | { ok: true; requests: number }
  | {
      ok: false;
      cause: 'refused' | 'failed';
      status?: number;
      reason: string;
      failedRows: FailedRecord[];
      requests: number;
    };

/** The service account lookup tables need, or why there is none. */
export function lookupTableAuth(config: MixpanelConfig): { projectId: string } {
  if (config.auth.kind !== 'service-account')
    throw new ConfigError(
      'lookup tables take a service account: set MIXPANEL_SERVICE_ACCOUNT_USERNAME, ' +
        'MIXPANEL_SERVICE_ACCOUNT_SECRET (or _FILE) and MIXPANEL_PROJECT_ID (a project secret or token is not accepted)',
    );
  return { projectId: config.auth.projectId };
}

/** `PUT <api host>/lookup-tables/{id}?project_id=…`: the region's host, like every other endpoint. */
export function lookupTableUrl(config: MixpanelConfig, tableId: string): URL {
  const url = new URL(`${config.apiHost}/lookup-tables/${encodeURIComponent(tableId)}`);
  url.searchParams.set('project_id', lookupTableAuth(config).projectId);
  return url;
}

/**
 * Replaces a lookup table with the CSV in `upload.file`, retrying as the shared retry decision says:
 * 429 waits (`Retry-After` when given, else backoff) apart from the failure budget, 5xx and lost
 * connections retry with backoff, 401/403 stop, anything else is final. Reasons never hold a secret.
 */
export async function replaceLookupTable(
  config: MixpanelConfig,
  upload: LookupTableUpload,
  options: LookupTableOptions = {},
): Promise<LookupTableOutcome> {
  const url = lookupTableUrl(config, upload.tableId);
  const headers = {
    Authorization: basicAuth(config),
    'Content-Type': 'text/csv',
    Accept: 'application/json',
  };
  const settings: RetrySettings = {
    maxRetries: options.retry?.maxRetries ?? 5,
    maxRateLimitWaitMs: options.retry?.maxRateLimitWaitMs ?? 15 * 60_000,
    backoff: options.retry?.backoff ?? SPEC_BACKOFF,
  };
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const put = options.put ?? putFile;
  const clean = (text: string) => redact(text, config.secrets);
  let attempts: Attempts = { ...FIRST_ATTEMPT };
  let requests = 0;
  for (;;) {
    requests++;
    let outcome: RequestOutcome;
    try {
      outcome = {
        response: await put(url, headers, upload.file, upload.bytes, options.timeoutMs ?? 600_000),
      };
    } catch (error) {
      if (!(error instanceof TransportError)) throw error;
      outcome = { error };
    }
    const decision = decideRetry({
      outcome,
      endpoint: 'lookup-tables',
      records: 1,
      attempts,
      settings,
      nowMs: (options.now ?? Date.now)(),
      random: options.random ?? Math.random,
    });
    const status = 'response' in outcome ? outcome.response.status : undefined;
    switch (decision.action) {
      case 'accepted':
        return { ok: true, requests };
      case 'wait':
      case 'retry':
        options.onWait?.(status === undefined ? 'no answer' : `HTTP ${status}`, Math.round(decision.afterMs));
        await sleep(decision.afterMs);
        attempts = decision.attempts;
        continue;
      default: {
        const given = 'reason' in decision ? decision.reason : `HTTP ${status ?? '?'}`;
        if (status === undefined)
          return { ok: false, cause: 'failed', reason: clean(given), failedRows: [], requests };
        const { reason, failedRows } = readLookupTableRefusal(
          status,
          'response' in outcome ? outcome.response.body : '',
        );
        // Refused for the table's content (400, 413): sending it again fails again. Anything else
        // (credentials, rate limit, outage, an answer Mixpanel's API does not give) is not the table's.
        const refused = status === 400 || status === 413;
        return {
          ok: false,
          cause: refused ? 'refused' : 'failed',
          status,
          // Retries of a 5xx used up: the retry decision's reason says how many and what came last.
          reason: clean(status >= 500 ? given : reason),
          failedRows,
          requests,
        };
      }
    }
  }
}
