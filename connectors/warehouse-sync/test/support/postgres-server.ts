import { execFile, spawn, type ChildProcess } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { generate } from 'selfsigned';

/**
 * A throwaway PostgreSQL server for tests and benchmarks, from the machine's own binaries (Debian's
 * `postgresql` package): initdb into a temporary folder, then `postgres` itself as a child process
 * (its PID is the server's) on a free port of 127.0.0.1, with SSL on (a self-signed certificate for
 * 127.0.0.1 and localhost) and password authentication over TCP. As root, it runs as the `postgres`
 * user, which owns the folder. `stop()` shuts it down and removes the folder.
 */

const run = promisify(execFile);

const REQUIRE = 'IDMERGE_REQUIRE_SYSTEM_DEPS';
const HOW_TO_ENABLE = 'install it with `apt-get install postgresql` (Debian/Ubuntu)';

/** The folder with initdb and postgres, highest version first; IDMERGE_POSTGRES_BIN overrides. */
function findBinaries(): string | undefined {
  const override = process.env.IDMERGE_POSTGRES_BIN;
  if (override) return existsSync(join(override, 'postgres')) ? override : undefined;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const bin = join(root, version, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'postgres'))) return bin;
  }
  return undefined;
}

/**
 * The PostgreSQL binaries, or why tests needing them skip. With IDMERGE_REQUIRE_SYSTEM_DEPS=1 (CI)
 * a missing server is an error, so the tests fail instead of skipping.
 */
export function postgresOrSkip(): { bin: string } | { skip: string } {
  const bin = findBinaries();
  if (bin !== undefined) return { bin };
  const problem = `PostgreSQL's server binaries (initdb, postgres) are not installed`;
  if (process.env[REQUIRE] === '1')
    throw new Error(`${problem}, and ${REQUIRE}=1 requires them; ${HOW_TO_ENABLE}`);
  return { skip: `${problem}: these tests are skipped; ${HOW_TO_ENABLE} to run them` };
}

export interface RunningPostgres {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** PEM of the server's self-signed certificate (its own certificate authority). */
  certificate: string;
  /** A file holding `certificate`. */
  certificateFile: string;
  /** The server process. */
  child: ChildProcess;
  /** libpq's variables for reaching this server (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD). */
  env: Record<string, string>;
  /** Runs statements as the superuser (autocommit), returning the last result's rows. */
  sql(text: string, values?: unknown[]): Promise<Array<Record<string, unknown>>>;
  stop(): Promise<void>;
}

/** uid and gid of a user, from /etc/passwd. */
function userIds(name: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith(`${name}:`));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined)
    throw new Error(`running as root, PostgreSQL must run as the "${name}" user, which does not exist`);
  return { uid: Number(uid), gid: Number(gid) };
}

/** A port nothing listens on at this moment. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

const USER = 'idmerge';
const DATABASE = 'warehouse';

async function certificate(): Promise<{ cert: string; key: string }> {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    extensions: [
      { name: 'basicConstraints', cA: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2 as const, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

/** Starts a server; `settings` are extra settings of its postgresql.conf. */
export async function startPostgres(settings: Record<string, string> = {}): Promise<RunningPostgres> {
  const found = postgresOrSkip();
  if ('skip' in found) throw new Error(found.skip);
  const owner = process.getuid?.() === 0 ? userIds('postgres') : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'idmerge-postgres-'));
  const own = (path: string) => owner && chownSync(path, owner.uid, owner.gid);
  own(dir);
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  own(pwfile);
  const data = join(dir, 'data');
  const as = owner ?? {};
  await run(
    join(found.bin, 'initdb'),
    ['-D', data, '-U', USER, `--pwfile=${pwfile}`, '--auth-local=trust', '--auth-host=scram-sha-256'],
    { ...as, env: { ...process.env, LC_ALL: 'C.UTF-8' }, cwd: dir },
  ).catch((error: { stderr?: string }) => {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${error.stderr ?? String(error)}`);
  });
  const pem = await certificate();
  const certFile = join(data, 'server.crt');
  const keyFile = join(data, 'server.key');
  writeFileSync(certFile, pem.cert);
  writeFileSync(keyFile, pem.key, { mode: 0o600 });
  own(certFile);
  own(keyFile);
  // In postgresql.conf rather than on the command line, so ALTER SYSTEM can change them in a test.
  const configuration = {
    ssl: 'on',
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    ...settings,
  };
  appendFileSync(
    join(data, 'postgresql.conf'),
    Object.entries(configuration)
      .map(([name, value]) => `${name} = '${value}'\n`)
      .join(''),
  );
  const certificateFile = join(dir, 'root.crt');
  writeFileSync(certificateFile, pem.cert);
  chmodSync(certificateFile, 0o644);

  for (let tries = 0; ; tries++) {
    const port = await freePort();
    const args = ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1'];
    const child = spawn(join(found.bin, 'postgres'), args, {
      ...as,
      cwd: dir,
      env: { ...process.env, LC_ALL: 'C.UTF-8' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const ready = await waitUntilReady(port, password, exited);
    if (!ready) {
      if (tries < 3 && /could not bind|Address already in use/i.test(log)) continue;
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`postgres did not start: ${log}`);
    }
    await createDatabase(port, password);
    const connection = { host: '127.0.0.1', port, user: USER, password, database: DATABASE, ssl: false };
    return {
      ...connection,
      certificate: pem.cert,
      certificateFile,
      child,
      env: {
        PGHOST: '127.0.0.1',
        PGPORT: String(port),
        PGDATABASE: DATABASE,
        PGUSER: USER,
        PGPASSWORD: password,
      },
      async sql(text, values) {
        const client = new pg.Client(connection);
        await client.connect();
        try {
          const result = await client.query(text, values);
          const last = Array.isArray(result) ? (result.at(-1) as pg.QueryResult) : result;
          return last.rows as Array<Record<string, unknown>>;
        } finally {
          await client.end();
        }
      },
      async stop() {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGINT'); // fast shutdown
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(timer);
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}

/** Polls until the server accepts a login; false when it exited first or did not come up in 30 s. */
async function waitUntilReady(
  port: number,
  password: string,
  exited: Promise<number | null>,
): Promise<boolean> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + 30_000;
  while (!gone && Date.now() < deadline) {
    const client = new pg.Client({ host: '127.0.0.1', port, user: USER, password, database: 'postgres' });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.end();
      return true;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return false;
}

async function createDatabase(port: number, password: string): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: USER, password, database: 'postgres' });
  await client.connect();
  try {
    await client.query(`create database ${DATABASE}`);
  } finally {
    await client.end();
  }
}
