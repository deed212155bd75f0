import { describe, expect, it } from 'vitest';
import { loadVectorCases } from '@idmerge/shared/test/vectors';
import { REPO_ROOT } from './support/run-cli.js';
import { spawn } from 'node:child_process';
import { join } from 'node:path';

describe('pnpm demo', () => {
  it('delivers every example flow to the sandbox and finds exactly the predicted clusters', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'cli', 'src', 'demo.ts')], {
      cwd: REPO_ROOT,
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    // Every seed flow, then the warehouse sync.
    expect(stdout.match(/✔ the sandbox resolved exactly the predicted clusters/g)).toHaveLength(
      loadVectorCases().length + 1,
    );
    expect(stdout).toMatch(/sync demo-logins: 163 rows read, 162 delivered, 1 dead-lettered/);
    expect(stdout).toMatch(/devices that more than one user tried to claim/);
    expect(stdout).toContain('U1: { $device:D1, $device:D2, U1 }');
  }, 60_000);
});
