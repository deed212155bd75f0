import { readFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { parseFaultSpec, startSandbox, type IdMergeMode } from '@idmerge/shared';
import { resumeYoungGenerationGrowth } from '@idmerge/shared/memory';
import { EXIT } from '../exit-codes.js';
import { modeOption, wholeNumber } from '../options.js';

function serviceAccount(value: string): { username: string; secret: string } {
  const at = value.indexOf(':');
  if (at <= 0 || at === value.length - 1) throw new InvalidArgumentError('expected USER:SECRET');
  return { username: value.slice(0, at), secret: value.slice(at + 1) };
}

function faults(value: string): string {
  try {
    parseFaultSpec(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  return value;
}

interface SandboxCliOptions {
  port: number;
  mode: IdMergeMode;
  projectToken?: string;
  serviceAccount?: { username: string; secret: string };
  projectId?: string;
  apiSecret?: string;
  faults?: string;
  retryAfter?: number;
  seed: number;
  dataDir?: string;
  sink?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  clientTimeoutMs: number;
  lookupTableReplacesPerDay?: number;
  quiet?: boolean;
}

/** A PEM file's text; the error names the option and the file, never the content. */
function readPem(file: string, option: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new InvalidArgumentError(
      `${option}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`,
    );
  }
}

export function register(program: Command): void {
  program
    .command('sandbox')
    .description(
      'Run a local Mixpanel-compatible ingestion server on 127.0.0.1: /import, /track, /engage, /groups as ' +
        'Mixpanel and its client libraries speak them (GET or POST, data= base64 or JSON, CORS), with ' +
        'validation, dedup and identity resolution, seeded faults, one log line per request on stderr, and ' +
        'inspection under /_sandbox/ (stats, events, clusters, profiles, groups; POST /_sandbox/reset with ' +
        "the project's credentials). SIGTERM or SIGINT stops it cleanly.",
    )
    .addOption(modeOption())
    .option('--port <n>', 'port to listen on; 0 picks a free one', wholeNumber('--port', 0), 0)
    .option(
      '--project-token <token>',
      'require this project token (Basic auth on /import, token in /track, /engage, /groups records)',
    )
    .option(
      '--service-account <user:secret>',
      'accept this service account on /import (with --project-id)',
      serviceAccount,
    )
    .option('--project-id <id>', 'project ID the service account must send as ?project_id=')
    .option('--api-secret <secret>', 'accept this project API secret on /import')
    .option(
      '--faults <spec>',
      'inject faults per request: KIND=PROBABILITY,… with KIND one of 429, 500, 503, 400, 401, 403, 413, ' +
        'reset (connection dropped before reading), slow (answer after --client-timeout-ms), lost (ingested, ' +
        'then the connection drops before the answer); e.g. 429=0.1,503=0.02,lost=0.01',
      faults,
    )
    .option('--retry-after <seconds>', 'send Retry-After on injected 429s', wholeNumber('--retry-after', 0))
    .option('--seed <n>', 'seed of the fault sequence', wholeNumber('--seed', 0), 1)
    .option('--data-dir <dir>', 'keep ingested data across restarts in this directory')
    .option('--sink', 'benchmark mode: count and check /import records, store nothing')
    .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM); needs --tls-key')
    .option('--tls-key <file>', 'the private key (PEM) of --tls-cert')
    .option(
      '--client-timeout-ms <ms>',
      'how long a slow fault waits before answering',
      wholeNumber('--client-timeout-ms', 1),
      10_000,
    )
    .option(
      '--lookup-table-replaces-per-day <n>',
      'lookup-table replaces taken per rolling 24 hours before 429 (default 100, as Mixpanel)',
      wholeNumber('--lookup-table-replaces-per-day', 0),
    )
    .option('--quiet', 'do not log each request on stderr')
    .action(async (options: SandboxCliOptions) => {
      if (options.serviceAccount && options.projectId === undefined) {
        throw new InvalidArgumentError('--service-account needs --project-id');
      }
      if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) {
        throw new InvalidArgumentError('--tls-cert and --tls-key go together');
      }
      const tls =
        options.tlsCert !== undefined && options.tlsKey !== undefined
          ? { cert: readPem(options.tlsCert, '--tls-cert'), key: readPem(options.tlsKey, '--tls-key') }
          : undefined;
      // The sink parses thousands of events a request and drops them at once: held at its starting
      // size, the young generation is collected several times a request and promotes what the
      // request still holds. Only the sink: the other modes keep what they receive.
      if (options.sink) resumeYoungGenerationGrowth();
      const sandbox = await startSandbox({
        port: options.port,
        mode: options.mode,
        projectToken: options.projectToken,
        serviceAccount: options.serviceAccount && {
          ...options.serviceAccount,
          projectId: options.projectId as string,
        },
        apiSecret: options.apiSecret,
        faults: options.faults,
        retryAfterSeconds: options.retryAfter,
        seed: options.seed,
        dataDir: options.dataDir,
        sink: options.sink,
        clientTimeoutMs: options.clientTimeoutMs,
        lookupTableReplacesPerDay: options.lookupTableReplacesPerDay,
        tls,
        log: options.quiet ? undefined : (line) => process.stderr.write(`${line}\n`),
      });
      console.log(
        `idmerge sandbox listening on ${sandbox.url} (${options.mode}${options.sink ? ', sink' : ''})`,
      );
      // First signal: stop accepting, let requests in flight finish, flush the data directory, exit 0.
      // A second one while that runs exits at once.
      let stopping = false;
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) process.exit(130);
        stopping = true;
        process.stderr.write(`idmerge sandbox: ${signal}, stopping\n`);
        sandbox.close().then(
          () => process.exit(EXIT.ok),
          (error: unknown) => {
            process.stderr.write(`idmerge sandbox: could not stop cleanly: ${String(error)}\n`);
            process.exit(EXIT.failed);
          },
        );
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
}
