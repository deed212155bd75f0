import type { IncomingMessage } from 'node:http';
import type { IdMergeMode } from '../payload/index.js';
import type { ProjectCredentials } from './auth.js';
import type { RequestStats } from './request-stats.js';
import type { LookupTables } from './lookup-tables.js';
import type { createSink } from './sink.js';
import type { SandboxState } from './state.js';

/** What every endpoint handler gets: the request and the sandbox it arrived at. */
export interface Exchange {
  req: IncomingMessage;
  url: URL;
  /** The path without trailing slashes: `/track/` and `/track` are one endpoint. */
  path: string;
  /** When the request arrived (ms since epoch): the time of events sent without one. */
  receivedMs: number;
  sandbox: SandboxContext;
}

export interface SandboxContext {
  mode: IdMergeMode;
  credentials: ProjectCredentials;
  /** Undefined in sink mode. */
  state?: SandboxState;
  sink?: ReturnType<typeof createSink>;
  requests: RequestStats;
  /** Lookup tables, kept in memory (in sink mode too). */
  lookupTables: LookupTables;
}
