import { createReadStream } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { pipeline } from 'node:stream/promises';

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A request that got no HTTP answer: it timed out or the connection failed. Worth retrying. */
export class TransportError extends Error {
  constructor(
    readonly kind: 'timeout' | 'connection',
    message: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

export interface Transport {
  post(
    url: URL,
    headers: Record<string, string>,
    body: Buffer | string,
    timeoutMs: number,
  ): Promise<HttpResponse>;
  close(): void;
}

/**
 * One HTTP exchange: the answer read whole, or a TransportError when none came (`timeoutMs` is the
 * longest silence on the connection). `send` writes the body and ends the request.
 */
function exchange(
  url: URL,
  options: http.RequestOptions,
  timeoutMs: number,
  send: (request: http.ClientRequest) => void,
): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const client = url.protocol === 'https:' ? https : http;
    const request = client.request(url, options, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      response.on('error', (error) => reject(new TransportError('connection', error.message)));
    });
    request.setTimeout(timeoutMs, () => {
      request.destroy(new TransportError('timeout', `no answer within ${timeoutMs} ms`));
    });
    request.on('error', (error) => {
      reject(
        error instanceof TransportError
          ? error
          : new TransportError(
              'connection',
              `${(error as NodeJS.ErrnoException).code ?? ''} ${error.message}`.trim(),
            ),
      );
    });
    send(request);
  });
}

/** HTTP(S) with keep-alive connection pools sized to the sender's concurrency. */
export function createTransport(maxSockets: number): Transport {
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets }),
    'https:': new https.Agent({ keepAlive: true, maxSockets }),
  };
  return {
    post(url, headers, body, timeoutMs) {
      const options = {
        method: 'POST',
        agent: agents[url.protocol === 'https:' ? 'https:' : 'http:'],
        headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) },
      };
      return exchange(url, options, timeoutMs, (request) => request.end(body));
    },
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}

/**
 * One `PUT` whose body is streamed from `file` (`bytes` long), so a body of any size never sits in
 * memory: lookup tables, up to 100 MB. `timeoutMs` is the longest silence on the connection, not
 * the time the upload may take. No keep-alive pool: these requests are rare and each stands alone.
 */
export function putFile(
  url: URL,
  headers: Record<string, string>,
  file: string,
  bytes: number,
  timeoutMs: number,
): Promise<HttpResponse> {
  const options = { method: 'PUT', headers: { ...headers, 'Content-Length': String(bytes) } };
  return exchange(url, options, timeoutMs, (request) => {
    // A server may answer (401, 413) before the body is sent; the answer wins, not the broken pipe.
    pipeline(createReadStream(file), request).catch(() => undefined);
  });
}
