import { describe, expect, it } from 'vitest';
import { loadVectorCases } from '../../test/vectors.js';
import { createIdentityModel, resolveEvents } from './index.js';

const cases = loadVectorCases();

describe('conformance cases through the identity model', () => {
  it('finds the cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(7);
  });

  for (const vector of cases) {
    it(vector.name, () => {
      // Fixed clock: the cases carry absolute times.
      const document = resolveEvents(vector.mode, vector.events, { nowMs: () => Date.UTC(2026, 0, 1) });
      expect(document.events.map(({ index: _index, ...rest }) => rest)).toEqual(vector.expect.events);
      expect(document.clusters).toEqual(vector.expect.clusters);
    });

    it(`${vector.name}: fed one at a time, the clusters are right after every event`, () => {
      const model = createIdentityModel(vector.mode, { nowMs: () => Date.UTC(2026, 0, 1) });
      for (const event of vector.events) {
        model.ingest(event);
        for (const cluster of model.clusters()) {
          for (const member of cluster.members) expect(model.canonicalOf(member)).toBe(cluster.distinct_id);
        }
      }
      expect(model.clusters()).toEqual(vector.expect.clusters);
    });
  }
});
