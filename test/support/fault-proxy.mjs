// A small HTTP proxy in front of the sandbox for tests of delivery faults the sandbox does not
// inject: `node fault-proxy.mjs TARGET_URL` listens on a free port of 127.0.0.1 and prints its URL.
// POST /_proxy/mode {"mode": M, "after": N} makes the proxy pass N more requests, then answer every
// request with M: pass, 401, 403, 503, lost (the connection is closed before any answer, after the
// request reached the target), or echo (HTTP 400 whose body repeats the request's headers, as some
// servers do); "delayMs" holds each passed request that long first (a slow server). GET /_proxy/stats tells how many requests were passed and faulted.
import { Buffer } from 'node:buffer';
import { createServer, request } from 'node:http';
import { setTimeout } from 'node:timers';
import { URL } from 'node:url';

const target = new URL(process.argv[2] ?? '');
let mode = 'pass';
let passesLeft = 0;
let delayMs = 0;
const stats = { passed: 0, faulted: 0 };

function forward(req, body, res) {
  return new Promise((resolve) => {
    const upstream = request(
      new URL(req.url, target),
      { method: req.method, headers: { ...req.headers, host: target.host } },
      (answer) => {
        const chunks = [];
        answer.on('data', (chunk) => chunks.push(chunk));
        answer.on('end', () => {
          if (res !== undefined) {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.end(Buffer.concat(chunks));
          }
          resolve();
        });
      },
    );
    upstream.on('error', (error) => {
      if (res !== undefined) {
        res.writeHead(502);
        res.end(String(error));
      }
      resolve();
    });
    upstream.end(body);
  });
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', async () => {
    const body = Buffer.concat(chunks);
    if (req.url === '/_proxy/mode' && req.method === 'POST') {
      const wanted = JSON.parse(body.toString('utf8'));
      mode = wanted.mode;
      passesLeft = wanted.after ?? 0;
      delayMs = wanted.delayMs ?? 0;
      res.end('{}');
      return;
    }
    if (req.url === '/_proxy/stats') {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify(stats));
      return;
    }
    const fault = req.url.startsWith('/_sandbox/') || passesLeft > 0 ? 'pass' : mode;
    if (passesLeft > 0) passesLeft--;
    if (fault === 'pass') {
      stats.passed++;
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      await forward(req, body, res);
      return;
    }
    stats.faulted++;
    if (fault === 'lost') {
      await forward(req, body, undefined);
      res.socket?.destroy();
    } else if (fault === 'echo') {
      res.writeHead(400, { 'Content-Type': 'text/plain' });
      res.end(`bad request; you sent: ${JSON.stringify(req.headers)}`);
    } else {
      res.writeHead(Number(fault), { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: `injected ${fault}`, status: 0 }));
    }
  });
});
server.listen(0, '127.0.0.1', () => {
  console.log(`fault proxy listening on http://127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
