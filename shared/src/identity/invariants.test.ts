import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { IdMergeMode, JsonObject, MixpanelEvent } from '../payload/index.js';
import { createIdentityModel, DEVICE_PREFIX, type IdentityModel } from './index.js';

const NOW = () => Date.UTC(2026, 0, 1);
const USERS = ['U0', 'U1', 'U2', 'U3', 'U4'];
const DEVICES = ['D0', 'D1', 'D2', 'D3', 'D4', 'D5'];
const ANONS = [
  '3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
  '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d',
  '11111111-2222-4333-8444-555555555555',
  'not-a-uuid',
];

function withIds(events: Array<{ event: string; properties: JsonObject }>): MixpanelEvent[] {
  return events.map((e, i) => ({
    event: e.event,
    properties: { time: 1763800000 + i, $insert_id: `p${i}`, ...e.properties },
  }));
}

const simplifiedEvents = fc
  .array(
    fc.record({
      event: fc.constantFrom('Page Viewed', 'Logged In', 'Purchase'),
      device: fc.option(fc.constantFrom(...DEVICES), { nil: undefined }),
      user: fc.option(fc.constantFrom(...USERS), { nil: undefined }),
    }),
    { maxLength: 40 },
  )
  .map((list) =>
    withIds(
      list.map(({ event, device, user }) => {
        const properties: JsonObject = {};
        if (device !== undefined) properties.$device_id = device;
        if (user !== undefined || device === undefined) properties.$user_id = user ?? 'U0';
        return { event, properties };
      }),
    ),
  );

const someId = fc.constantFrom(...USERS, ...ANONS);
const originalEvents = fc
  .array(
    fc.oneof(
      someId.map((id) => ({ event: 'Page Viewed', properties: { distinct_id: id } as JsonObject })),
      fc.tuple(fc.constantFrom(...USERS), fc.constantFrom(...ANONS, 'U1')).map(([user, anon]) => ({
        event: '$identify',
        properties: { distinct_id: user, $identified_id: user, $anon_id: anon } as JsonObject,
      })),
      fc.tuple(someId, someId).map(([id, alias]) => ({
        event: '$create_alias',
        properties: { distinct_id: id, alias } as JsonObject,
      })),
      fc
        .tuple(someId, someId)
        .map(([a, b]) => ({ event: '$merge', properties: { $distinct_ids: [a, b] } as JsonObject })),
    ),
    { maxLength: 40 },
  )
  .map(withIds);

function feed(mode: IdMergeMode, events: MixpanelEvent[]): IdentityModel {
  const model = createIdentityModel(mode, { nowMs: NOW });
  model.ingestMany(events);
  return model;
}

function expectPartition(model: IdentityModel): void {
  const seen = new Set<string>();
  for (const cluster of model.clusters()) {
    expect(cluster.members).toContain(cluster.distinct_id);
    for (const member of cluster.members) {
      expect(seen.has(member)).toBe(false);
      seen.add(member);
      expect(model.canonicalOf(member)).toBe(cluster.distinct_id);
    }
  }
  expect(seen.size).toBe(model.stats().ids);
}

function attribution(model: IdentityModel): string[] {
  return Array.from({ length: model.stats().events }, (_, i) => model.currentDistinctId(i));
}

describe.each([
  ['simplified', simplifiedEvents],
  ['original', originalEvents],
] as const)('%s: invariants', (mode, arbitrary) => {
  it('clusters partition every known ID, each with its canonical ID among its members', () => {
    fc.assert(fc.property(arbitrary, (events) => expectPartition(feed(mode, events))));
  });

  it('replaying the same events (same $insert_ids) changes nothing', () => {
    fc.assert(
      fc.property(arbitrary, (events) => {
        const model = feed(mode, events);
        const clusters = model.clusters();
        const attributed = attribution(model);
        const replay = model.ingestMany(events);
        expect(
          replay.every((outcome) => outcome.status === 'duplicate' || outcome.status === 'rejected'),
        ).toBe(true);
        expect(model.clusters()).toEqual(clusters);
        expect(attribution(model)).toEqual(attributed);
      }),
    );
  });

  it('canonical IDs are stable when the same events are fed into a fresh model again', () => {
    fc.assert(
      fc.property(arbitrary, (events) => {
        const first = feed(mode, events);
        const second = feed(mode, events);
        second.ingestMany(events);
        for (const cluster of first.clusters()) {
          for (const member of cluster.members) expect(second.canonicalOf(member)).toBe(cluster.distinct_id);
        }
      }),
    );
  });
});

describe('simplified: a cluster never holds two user IDs', () => {
  it('holds for any event sequence', () => {
    fc.assert(
      fc.property(simplifiedEvents, (events) => {
        for (const cluster of feed('simplified', events).clusters()) {
          const users = cluster.members.filter((id) => !id.startsWith(DEVICE_PREFIX));
          expect(users.length).toBeLessThanOrEqual(1);
          if (users.length === 1) expect(cluster.distinct_id).toBe(users[0]);
        }
      }),
    );
  });
});
