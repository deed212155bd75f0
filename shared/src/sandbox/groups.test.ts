import { describe, expect, it } from 'vitest';
import { startSandbox } from './server.js';

describe('sandbox /groups: every group operation', () => {
  it('applies $set, $set_once, $union, $remove, $unset and $delete, and refuses $add and $append', async () => {
    const sandbox = await startSandbox({
      port: 0,
      host: '127.0.0.1',
      mode: 'simplified',
      projectToken: 'tok',
    });
    try {
      const send = async (records: unknown[]) =>
        (await fetch(`${sandbox.url}/groups?verbose=1`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(
            records.map((r) => ({ $token: 'tok', $group_key: 'company_id', ...(r as object) })),
          ),
        }).then((res) => res.json())) as { status: number; error: string | null };
      const groups = async () =>
        (await fetch(`${sandbox.url}/_sandbox/groups`).then((res) => res.json())) as Record<string, unknown>;
      expect(
        await send([
          { $group_id: 'C1', $set: { name: 'Acme', plan: 'free', domains: ['a.test'] } },
          { $group_id: 'C1', $set_once: { name: 'Ignored', founded: 1999 } },
          { $group_id: 'C1', $union: { domains: ['a.test', 'b.test'], regions: ['eu'] } },
          { $group_id: 'C1', $remove: { domains: 'a.test' } },
          { $group_id: 'C1', $unset: ['plan'] },
          { $group_id: 'C2', $set: { name: 'Gone' } },
          { $group_id: 'C2', $delete: '' },
        ]),
      ).toEqual({ status: 1, error: null });
      expect(await groups()).toEqual({
        'company_id/C1': { name: 'Acme', domains: ['b.test'], founded: 1999, regions: ['eu'] },
      });
      const refused = await send([
        { $group_id: 'C1', $add: { seats: 1 } },
        { $group_id: 'C1', $append: { domains: 'c.test' } },
      ]);
      expect(refused.status).toBe(0);
      expect(refused.error).toMatch(
        /record 0: .*exactly one operation of \$set, \$set_once, \$unset, \$remove, \$union, \$delete/,
      );
      expect((await groups())['company_id/C1']).toEqual({
        name: 'Acme',
        domains: ['b.test'],
        founded: 1999,
        regions: ['eu'],
      });
    } finally {
      await sandbox.close();
    }
  });
});
