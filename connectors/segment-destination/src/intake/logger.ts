/**
 * Log lines as JSON on stderr, one per line. Lines are gathered and written once per turn of the
 * event loop: a pipe on Linux is written synchronously, and a write per request would cost a
 * system call each at thousands of requests per second.
 */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export function createLogger(
  write: (text: string) => void = (text) => process.stderr.write(text),
  redact: (text: string) => string = (text) => text,
): Logger {
  let lines: string[] = [];
  const flush = () => {
    const text = lines.join('');
    lines = [];
    try {
      write(text);
    } catch {
      // stderr gone (closed pipe): nothing left to tell.
    }
  };
  const line = (level: string, message: string, fields: Record<string, unknown> = {}) => {
    if (lines.length === 0) setImmediate(flush);
    lines.push(`${redact(JSON.stringify({ time: new Date().toISOString(), level, message, ...fields }))}\n`);
  };
  return {
    info: (message, fields) => line('info', message, fields),
    warn: (message, fields) => line('warn', message, fields),
    error: (message, fields) => line('error', message, fields),
  };
}

/** A logger that keeps nothing (tests that do not read the log). */
export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
