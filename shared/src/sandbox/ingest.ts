import type { IdMergeMode } from '../payload/index.js';
import { eventTimeMs, IDENTITY_EVENTS, SIMPLIFIED_IDENTITY_EVENT_MESSAGE } from '../validation/index.js';
import type { SandboxState } from './state.js';

export interface IngestRules {
  endpoint: 'import' | 'track';
  mode: IdMergeMode;
  /** `/import?strict=1`: every field checked. `/track` and plain `/import` are not strict. */
  strict: boolean;
  /** The request carried valid credentials (HTTP Basic). */
  authenticated: boolean;
  receivedMs: number;
  /** `/track` checks `properties.token` against it, when the sandbox has one. */
  projectToken?: string;
}

export interface FailedRecord {
  index: number;
  $insert_id: string;
  field: string;
  message: string;
}

const TRACK_MAX_AGE_MS = 5 * 24 * 3600 * 1000;

type EventLike = { event?: unknown; properties?: Record<string, unknown> };

function asEvent(record: unknown): EventLike {
  return typeof record === 'object' && record !== null && !Array.isArray(record) ? (record as EventLike) : {};
}

/** Why `/track` refuses an event whatever its fields say, or undefined. */
function trackRefusal(event: EventLike, rules: IngestRules): { field: string; message: string } | undefined {
  if (rules.projectToken !== undefined && event.properties?.token !== rules.projectToken) {
    return {
      field: 'properties.token',
      message: "is missing or is not this project's token",
    };
  }
  if (event.event === '$merge' && rules.mode === 'original') {
    return { field: 'event', message: '$merge is accepted only on authenticated /import' };
  }
  const time = event.properties?.time;
  if (typeof time === 'number' && eventTimeMs(time) < rules.receivedMs - TRACK_MAX_AGE_MS) {
    return {
      field: 'properties.time',
      message: '/track accepts events from the last 5 days only; send older events to /import',
    };
  }
  return undefined;
}

/**
 * Why `/import` refuses an event whatever its fields say, or undefined. In a Simplified project
 * strict `/import` refuses identity events (as a live project does); `/track` and plain `/import`
 * take them as ordinary events.
 */
function importRefusal(event: EventLike, rules: IngestRules): { field: string; message: string } | undefined {
  if (event.event === '$merge' && rules.mode === 'original' && !rules.authenticated) {
    return { field: 'event', message: '$merge is accepted only on authenticated /import' };
  }
  if (
    rules.strict &&
    rules.mode === 'simplified' &&
    typeof event.event === 'string' &&
    IDENTITY_EVENTS.has(event.event)
  ) {
    return { field: 'event', message: SIMPLIFIED_IDENTITY_EVENT_MESSAGE };
  }
  return undefined;
}

function missing(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

/**
 * Ingests the events of one request under the endpoint's rules. Not strict (`/track`, plain
 * `/import`): an event without `$insert_id` is taken and never deduplicated; on `/track` an event
 * without `time` gets the time of receipt, as Mixpanel stamps it.
 */
export function ingestEvents(
  state: SandboxState,
  records: unknown[],
  rules: IngestRules,
): { accepted: number; failed: FailedRecord[] } {
  const failed: FailedRecord[] = [];
  let accepted = 0;
  records.forEach((record, index) => {
    let event = asEvent(record);
    const insertId = String(event.properties?.$insert_id ?? '');
    const refuse = (field: string, message: string) => {
      failed.push({ index, $insert_id: insertId, field, message: `${field}: ${message}` });
    };
    const refusal = rules.endpoint === 'track' ? trackRefusal(event, rules) : importRefusal(event, rules);
    if (refusal !== undefined) {
      state.rejectRecord();
      return refuse(refusal.field, refusal.message);
    }
    if (rules.endpoint === 'track' && event.properties !== undefined && missing(event.properties.time)) {
      event = { ...event, properties: { ...event.properties, time: rules.receivedMs } };
    }
    // Strict /import refused Simplified identity events above; everywhere else they are ordinary.
    const outcome = state.ingestEvent(
      event === record ? record : event,
      rules.strict ? undefined : { strict: false },
    );
    if (outcome.status === 'rejected') {
      const first = outcome.violations[0];
      failed.push({
        index,
        $insert_id: insertId,
        field: first?.field ?? '',
        message: outcome.violations.map((v) => `${v.field}: ${v.message}`).join('; '),
      });
    } else accepted++;
  });
  return { accepted, failed };
}
