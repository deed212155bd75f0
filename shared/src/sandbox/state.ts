import {
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import {
  createIdentityModel,
  type IdentityModel,
  type IngestOptions,
  type IngestOutcome,
} from '../identity/index.js';
import type { IdMergeMode, JsonObject, MixpanelEvent } from '../payload/index.js';
import { validateEngageUpdate, validateGroupUpdate, type Violation } from '../validation/index.js';
import { applyGroupOperation } from './groups.js';
import { applyProfileOperation } from './profiles.js';

/** What became of the records the sandbox received (requests are counted by RequestStats). */
export interface RecordStats {
  received: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  ignored: number;
  profile_updates: number;
}

type LogLine =
  /** `options`: how it was taken, when not by strict rules. */
  | { kind: 'event'; event: unknown; options?: IngestOptions }
  | { kind: 'engage'; update: Record<string, unknown> }
  | { kind: 'groups'; update: Record<string, unknown> };

/**
 * What the sandbox has ingested: events through the identity model, profiles and groups. With a
 * data directory every accepted record is appended to a log and replayed on start.
 */
export class SandboxState {
  private model: IdentityModel;
  private events: MixpanelEvent[] = [];
  private failures = new Map<number, { reason: string; description?: string }>();
  readonly profiles = new Map<string, JsonObject>();
  readonly groups = new Map<string, JsonObject>();
  stats: RecordStats = SandboxState.emptyStats();
  private readonly logFile?: string;
  private logFd?: number;

  constructor(
    readonly mode: IdMergeMode,
    dataDir?: string,
  ) {
    this.model = createIdentityModel(mode);
    if (dataDir !== undefined) {
      mkdirSync(dataDir, { recursive: true });
      this.logFile = join(dataDir, `ingested-${mode}.ndjson`);
      this.replay();
      this.logFd = openSync(this.logFile, 'a', 0o600); // ingested events: user data
    }
  }

  /** Flushes the data-directory log to disk and closes it; nothing is logged afterwards. */
  close(): void {
    if (this.logFd === undefined) return;
    fsyncSync(this.logFd);
    closeSync(this.logFd);
    this.logFd = undefined;
  }

  private static emptyStats(): RecordStats {
    return {
      received: 0,
      accepted: 0,
      duplicates: 0,
      rejected: 0,
      ignored: 0,
      profile_updates: 0,
    };
  }

  reset(): void {
    this.model = createIdentityModel(this.mode);
    this.events = [];
    this.failures.clear();
    this.profiles.clear();
    this.groups.clear();
    this.stats = SandboxState.emptyStats();
    // The data-directory log is emptied too, so a restart does not bring reset data back.
    if (this.logFd !== undefined) ftruncateSync(this.logFd, 0);
  }

  private replay(): void {
    if (this.logFile === undefined || !existsSync(this.logFile)) return;
    // Replayed through the validating model that keeps serving: logged events passed validation when
    // they arrived and still do (times only grow older), and later requests must be validated too.
    const replayModel = this.model;
    for (const line of readFileSync(this.logFile, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      const entry = JSON.parse(line) as LogLine;
      if (entry.kind === 'event') this.record(entry.event, replayModel.ingest(entry.event, entry.options));
      else this.applyUpdate(entry.kind, entry.update);
    }
  }

  private log(line: LogLine): void {
    // Written synchronously, one line per accepted record, so a crash loses at most the line in flight.
    if (this.logFd !== undefined) writeSync(this.logFd, `${JSON.stringify(line)}\n`);
  }

  private record(event: unknown, outcome: IngestOutcome): void {
    switch (outcome.status) {
      case 'accepted':
        this.stats.accepted++;
        this.events[outcome.eventIndex] = event as MixpanelEvent;
        if (outcome.failureReason !== undefined) {
          this.failures.set(outcome.eventIndex, {
            reason: outcome.failureReason,
            description: outcome.failureDescription,
          });
        }
        break;
      case 'duplicate':
        this.stats.duplicates++;
        break;
      case 'ignored':
        this.stats.ignored++;
        break;
      case 'rejected':
        this.stats.rejected++;
        break;
    }
  }

  /**
   * Ingests one event; the outcome says whether it was stored, a duplicate, ignored or rejected.
   * `options.strict: false` takes it as `/track` and plain `/import` do (see IngestOptions).
   */
  ingestEvent(event: unknown, options?: IngestOptions): IngestOutcome {
    this.stats.received++;
    const outcome = this.model.ingest(event, options);
    this.record(event, outcome);
    if (outcome.status === 'accepted')
      this.log(options === undefined ? { kind: 'event', event } : { kind: 'event', event, options });
    return outcome;
  }

  /** Rejects a record for a reason the model does not know (auth, token, endpoint rules). */
  rejectRecord(): void {
    this.stats.received++;
    this.stats.rejected++;
  }

  private applyUpdate(kind: 'engage' | 'groups', update: Record<string, unknown>): void {
    const key =
      kind === 'engage'
        ? String(update.$distinct_id)
        : `${String(update.$group_key)}/${String(update.$group_id)}`;
    const store = kind === 'engage' ? this.profiles : this.groups;
    if ('$delete' in update) {
      store.delete(key);
      return;
    }
    const profile = store.get(key) ?? {};
    if (kind === 'engage') applyProfileOperation(profile, update);
    else applyGroupOperation(profile, update);
    store.set(key, profile);
    this.stats.profile_updates++;
  }

  /** Applies a profile or group update, or says why it is invalid. */
  update(kind: 'engage' | 'groups', update: unknown): Violation[] {
    this.stats.received++;
    const result = kind === 'engage' ? validateEngageUpdate(update) : validateGroupUpdate(update);
    if (!result.ok) {
      this.stats.rejected++;
      return result.violations;
    }
    const record = update as Record<string, unknown>;
    this.applyUpdate(kind, record);
    this.log({ kind, update: record });
    return [];
  }

  /** Stored events with the distinct_id they were ingested under and the one they count for now. */
  *storedEvents(): Generator<Record<string, unknown>> {
    for (let i = 0; i < this.events.length; i++) {
      const event = this.events[i] as MixpanelEvent;
      const ingested = this.model.ingestedDistinctId(i);
      const current = this.model.currentDistinctId(i);
      const properties: JsonObject = { ...event.properties, distinct_id: current };
      const failure = this.failures.get(i);
      if (this.mode === 'simplified') {
        if (ingested !== current) properties.$distinct_id_before_identity = ingested;
        if (failure) properties.$identity_failure_reason = failure.reason;
      } else if (failure) {
        properties.$failure_reason = failure.reason;
        if (failure.description) properties.$failure_description = failure.description;
      }
      yield { event: event.event, properties, ingested_distinct_id: ingested, distinct_id: current };
    }
  }

  clusters() {
    return this.model.clusters();
  }
}
