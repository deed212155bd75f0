import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { chromiumOrSkip, launchChromium } from './chromium.js';

const found = chromiumOrSkip();
if ('skip' in found) console.warn(`test/support/chromium.test.ts: ${found.skip}`);

describe.skipIf('skip' in found)('the shared Chromium harness', () => {
  let server: Server;
  let origin = '';
  beforeAll(async () => {
    server = createServer((_req, res) =>
      res.writeHead(200, { 'Content-Type': 'text/html' }).end('<p>ok</p>'),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('loads a page from 127.0.0.1 and resolves no other host name', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${origin}/`);
      expect(await page.textContent('p')).toBe('ok');
      const port = new URL(origin).port;
      // localhost is a name like any other here: only the literal 127.0.0.1 resolves.
      // no-cors: an opaque answer proves the host was reached, whatever CORS would say.
      const reach = (host: string) =>
        page.evaluate(async (url) => {
          try {
            await fetch(url, { mode: 'no-cors' });
            return 'reached';
          } catch (error) {
            return String(error);
          }
        }, `http://${host}:${port}/`);
      expect(await reach('127.0.0.1')).toBe('reached');
      expect(await reach('localhost')).toMatch(/Failed to fetch/);
    } finally {
      await browser.close();
    }
  });
});

describe('chromiumOrSkip without a browser', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('skips, saying how to enable the test', () => {
    vi.stubEnv('IDMERGE_CHROMIUM', '/nonexistent/chromium');
    vi.stubEnv('IDMERGE_REQUIRE_SYSTEM_DEPS', '');
    expect(chromiumOrSkip()).toEqual({ skip: expect.stringMatching(/apt-get install -y chromium/) });
  });

  it('fails instead when IDMERGE_REQUIRE_SYSTEM_DEPS=1', () => {
    vi.stubEnv('IDMERGE_CHROMIUM', '/nonexistent/chromium');
    vi.stubEnv('IDMERGE_REQUIRE_SYSTEM_DEPS', '1');
    expect(() => chromiumOrSkip()).toThrow(/chromium is required .*\/nonexistent\/chromium/);
  });
});
