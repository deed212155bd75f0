/**
 * The shapes idmerge sends to Mixpanel's ingestion API.
 * Every part of the core speaks these types: mapping produces them, validation checks them,
 * the identity model resolves them, senders deliver them and the sandbox receives them.
 */

/** The ID Merge API a Mixpanel project uses; chosen once per project, never switched. */
export type IdMergeMode = 'simplified' | 'original';
export const ID_MERGE_MODES = ['simplified', 'original'] as const satisfies readonly IdMergeMode[];

/** A JSON value as it travels on the wire. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** An event for `/import` or `/track`: `{event, properties}` with `time`, `$insert_id` and identity inside. */
export interface MixpanelEvent {
  event: string;
  properties: JsonObject;
}

/** A user-profile update for `/engage` (one operation per record, as Mixpanel expects). */
export interface EngageUpdate {
  $distinct_id: string;
  $token?: string;
  $ip?: string | number;
  $time?: number;
  $ignore_time?: boolean;
  $ignore_alias?: boolean;
  $set?: JsonObject;
  $set_once?: JsonObject;
  $add?: Record<string, number>;
  $union?: Record<string, JsonValue[]>;
  $append?: JsonObject;
  $remove?: JsonObject;
  $unset?: string[];
  $delete?: '' | null;
}

/** A group-profile update for `/groups`. */
export interface GroupUpdate {
  $group_key: string;
  $group_id: string;
  $token?: string;
  $set?: JsonObject;
  $set_once?: JsonObject;
  $unset?: string[];
  $remove?: JsonObject;
  $union?: Record<string, JsonValue[]>;
  $delete?: '' | null;
}

/** The endpoint a payload is delivered to. */
export type Endpoint = 'import' | 'track' | 'engage' | 'groups';

/** One payload with the endpoint it must go to. Mapping returns lists of these. */
export type Payload =
  | { endpoint: 'import' | 'track'; body: MixpanelEvent }
  | { endpoint: 'engage'; body: EngageUpdate }
  | { endpoint: 'groups'; body: GroupUpdate };
