import type { AuthClient } from 'google-auth-library';
import type { SyncDefinition } from '../definition.js';

export type BigQueryDefinitionSource = Extract<SyncDefinition['source'], { type: 'bigquery' }>;

export interface BigQuerySourceOptions {
  projectId: string;
  location?: string;
  /** Root URL of the API (default https://bigquery.googleapis.com). */
  apiEndpoint?: string;
  /** A service-account key file (from GOOGLE_APPLICATION_CREDENTIALS). */
  keyFilename?: string;
  /** An auth client to use instead of a key file (tests, workload identity set up by the caller). */
  authClient?: AuthClient;
  query?: string;
  table?: string;
  cursor?: string;
  primaryKey: string;
}

/** A setting that is missing or unusable; the message names the YAML key or variable to fix. */
export class BigQuerySettingsError extends Error {
  constructor(problem: string) {
    super(`bigquery source: ${problem}`);
    this.name = 'BigQuerySettingsError';
  }
}

const nonEmpty = (value: string | undefined) => (value === undefined || value === '' ? undefined : value);

/**
 * The source's options from the definition, with the project and the key file from the
 * environment when the definition leaves them out. Credentials never come from the definition.
 */
export function bigQueryOptionsFrom(
  source: BigQueryDefinitionSource,
  env: NodeJS.ProcessEnv,
): BigQuerySourceOptions {
  const projectId = source.project ?? nonEmpty(env.BIGQUERY_PROJECT) ?? nonEmpty(env.GOOGLE_CLOUD_PROJECT);
  if (projectId === undefined) {
    throw new BigQuerySettingsError(
      'the project is missing; write source.project in the definition or set BIGQUERY_PROJECT (or GOOGLE_CLOUD_PROJECT)',
    );
  }
  const http = source.api_endpoint !== undefined && new URL(source.api_endpoint).protocol === 'http:';
  if (
    http &&
    !['127.0.0.1', 'localhost', '[::1]'].includes(new URL(source.api_endpoint as string).hostname)
  ) {
    throw new BigQuerySettingsError(
      `source.api_endpoint: plain http is allowed only on this machine (127.0.0.1); use https for ${source.api_endpoint}`,
    );
  }
  return {
    projectId,
    location: source.location,
    apiEndpoint: source.api_endpoint?.replace(/\/+$/, ''),
    keyFilename: nonEmpty(env.GOOGLE_APPLICATION_CREDENTIALS),
    query: source.query,
    table: source.table,
    cursor: source.cursor,
    primaryKey: source.primary_key,
  };
}
