import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { sinkCertificate } from './certificate.js';

const PRELOAD = fileURLToPath(new URL('./redirect-preload.cjs', import.meta.url));

function runChild(script: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--require', PRELOAD, '-e', script], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('close', (code) => resolve({ code, out }));
  });
}

describe('redirect preload', () => {
  it("sends Mixpanel's hosts to the local sink over verified TLS, and refuses every other host", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'redirect-'));
    const { cert, key } = await sinkCertificate();
    writeFileSync(join(dir, 'cert.pem'), cert);
    const seen: Array<{ host?: string; servername: string; path?: string }> = [];
    const server = createServer({ cert, key }, (req, res) => {
      seen.push({
        host: req.headers.host,
        servername: String((req.socket as TLSSocket & { servername?: string }).servername),
        path: req.url,
      });
      res.end('{"status":1}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const env = { IDMERGE_BENCH_SINK_PORT: String(port), NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem') };
      // node:https (as idmerge and got use it) and fetch (undici, as mixpanel-import's pool uses it).
      const viaHttps = await runChild(
        "require('node:https').get('https://api.mixpanel.com/import?strict=1', (r) => { r.resume(); r.on('end', () => console.log('status', r.statusCode)); })",
        env,
      );
      expect(viaHttps.out).toContain('status 200');
      const viaFetch = await runChild(
        "fetch('https://api-eu.mixpanel.com/engage', { method: 'POST', body: '[]' }).then((r) => console.log('status', r.status))",
        env,
      );
      expect(viaFetch.out).toContain('status 200');
      expect(seen).toEqual([
        { host: 'api.mixpanel.com', servername: 'api.mixpanel.com', path: '/import?strict=1' },
        { host: 'api-eu.mixpanel.com', servername: 'api-eu.mixpanel.com', path: '/engage' },
      ]);

      const elsewhere = await runChild(
        "require('node:https').get('https://example.com/').on('error', (e) => console.log('refused:', e.message))",
        env,
      );
      expect(elsewhere.out).toMatch(/refusing to connect to example\.com/);
      expect(seen).toHaveLength(2);
    } finally {
      server.close();
    }
  });
});
