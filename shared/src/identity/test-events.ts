import type { JsonObject, MixpanelEvent } from '../payload/index.js';

let counter = 0;

/** A valid event for tests: a fixed 2025 time and a fresh $insert_id unless given. */
export function testEvent(event: string, properties: JsonObject): MixpanelEvent {
  counter++;
  return { event, properties: { time: 1763800000 + counter, $insert_id: `t${counter}`, ...properties } };
}

export const TEST_NOW = (): number => Date.UTC(2026, 0, 1);
