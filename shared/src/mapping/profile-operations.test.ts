import { describe, expect, it } from 'vitest';
import { mapProfileOperations } from './profile-operations.js';

describe('mapProfileOperations', () => {
  it('makes one validated /engage record per operation, special traits mapped, $ip 0 without an IP', () => {
    expect(
      mapProfileOperations(
        {
          user_id: 'U1',
          set: { email: 'a@x.test' },
          add: { visits: 1 },
          union: { tags: ['a'] },
          unset: ['old'],
        },
        { token: 'tok' },
      ),
    ).toEqual({
      ok: true,
      warnings: [],
      payloads: [
        {
          endpoint: 'engage',
          body: { $distinct_id: 'U1', $set: { $email: 'a@x.test' }, $token: 'tok', $ip: 0 },
        },
        { endpoint: 'engage', body: { $distinct_id: 'U1', $add: { visits: 1 }, $token: 'tok', $ip: 0 } },
        { endpoint: 'engage', body: { $distinct_id: 'U1', $union: { tags: ['a'] }, $token: 'tok', $ip: 0 } },
        { endpoint: 'engage', body: { $distinct_id: 'U1', $unset: ['old'], $token: 'tok', $ip: 0 } },
      ],
    });
  });

  it('refuses an empty input and an invalid operation, naming the user and the field', () => {
    expect(mapProfileOperations({ user_id: 'U1' })).toMatchObject({
      ok: false,
      errors: [{ record: 'user U1', code: 'no_profile_operation' }],
    });
    expect(mapProfileOperations({ user_id: 'U1', add: { visits: 'one' } })).toMatchObject({
      ok: false,
      errors: [{ record: 'user U1', field: '$add.visits', message: '$add takes numbers only' }],
    });
  });
});
