import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';

/** The write key of a call: the Basic-auth user name, else `writeKey` in the body. */
export function writeKeyOf(request: IncomingMessage, body: Record<string, unknown>): string | undefined {
  const header = request.headers.authorization;
  if (header !== undefined && /^basic /i.test(header)) {
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon === -1 ? decoded : decoded.slice(0, colon);
  }
  return typeof body.writeKey === 'string' ? body.writeKey : undefined;
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * A check of a presented key against every valid key (several are valid during a rotation).
 * Keys are compared as SHA-256 digests with timingSafeEqual, all of them every time, so the time
 * taken says nothing about how much of a key matched or which key it was.
 */
export function keyCheck(keys: readonly string[]): (presented: string | undefined) => boolean {
  const digests = keys.map(digest);
  return (presented) => {
    const candidate = digest(presented ?? '');
    let ok = false;
    for (const key of digests) ok = timingSafeEqual(key, candidate) || ok;
    return ok && presented !== undefined;
  };
}

/**
 * The valid write keys: `SEGMENT_WRITE_KEY` (several separated by commas or white space), the
 * lines of the file named by `SEGMENT_WRITE_KEY_FILE`, and keys given on the command line.
 */
export function loadWriteKeys(env: NodeJS.ProcessEnv, fromCommandLine: readonly string[]): string[] {
  const keys = [...fromCommandLine];
  if (env.SEGMENT_WRITE_KEY) keys.push(...env.SEGMENT_WRITE_KEY.split(/[\s,]+/));
  const file = env.SEGMENT_WRITE_KEY_FILE;
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new Error(`SEGMENT_WRITE_KEY_FILE ${file} cannot be read: ${(error as Error).message}`);
    }
    keys.push(...text.split(/[\s,]+/));
  }
  return [...new Set(keys.filter((key) => key !== ''))];
}

/**
 * Every form in which a secret can show up in text: as it is (from 4 characters), and Base64 of `secret:`, `secret`,
 * and `user:secret` for the given user names (HTTP Basic). Used to redact logs and files.
 */
export function secretForms(secrets: readonly string[], users: readonly string[] = []): string[] {
  const forms = new Set<string>();
  const b64 = (text: string) => Buffer.from(text).toString('base64').replace(/=+$/, '');
  for (const secret of secrets) {
    if (secret === '') continue;
    // A very short secret as it is would match ordinary words; its encodings are long enough.
    if (secret.length >= 4) forms.add(secret);
    forms.add(b64(`${secret}:`));
    forms.add(b64(secret));
    for (const user of users) forms.add(b64(`${user}:${secret}`));
  }
  return [...forms].sort((a, b) => b.length - a.length);
}

/** Replaces every form of every secret in `text` with `[redacted]`. */
export function redactor(forms: readonly string[]): (text: string) => string {
  if (forms.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const form of forms) if (out.includes(form)) out = out.split(form).join('[redacted]');
    return out;
  };
}
