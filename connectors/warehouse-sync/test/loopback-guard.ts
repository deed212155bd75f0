import net from 'node:net';
import { z } from 'zod';

const connectOptions = z.object({
  host: z.string().optional(),
  hostname: z.string().optional(),
  port: z.unknown().optional(),
});

function targetOf(args: unknown[]): string {
  const first: unknown = Array.isArray(args[0]) ? args[0][0] : args[0];
  const options = connectOptions.safeParse(first);
  if (options.success) {
    const { host, hostname, port } = options.data;
    // No host and no port: a local (IPC) socket path.
    return host ?? hostname ?? (port === undefined ? 'ipc' : 'localhost');
  }
  return typeof args[1] === 'string' ? args[1] : 'localhost';
}

const isLoopback = (host: string) => ['127.0.0.1', 'localhost', '::1', 'ipc'].includes(host);

/**
 * Checks every socket the test file opens from now on: loopback addresses pass, anything else
 * throws and is recorded. `restore()` puts the original `connect` back.
 */
export function guardLoopback(): { reached: string[]; refused: string[]; restore(): void } {
  const reached: string[] = [];
  const refused: string[] = [];
  const originalConnect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    const host = targetOf(args);
    reached.push(host);
    if (!isLoopback(host)) {
      refused.push(host);
      throw new Error(`this test may not connect to ${host}`);
    }
    return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof net.Socket.prototype.connect;
  return {
    reached,
    refused,
    restore: () => {
      net.Socket.prototype.connect = originalConnect;
    },
  };
}
