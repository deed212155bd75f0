import type { Endpoint } from '../payload/index.js';
import type { MixpanelConfig } from './config.js';

/**
 * The URL of an endpoint: `/import` with `strict=1` when asked and `project_id` with a service
 * account; the others with `verbose=1`, so a refusal comes with its reason.
 */
export function endpointUrl(config: MixpanelConfig, endpoint: Endpoint, strict: boolean): URL {
  const url = new URL(`${config.apiHost}/${endpoint}`);
  if (endpoint === 'import') {
    if (strict) url.searchParams.set('strict', '1');
    if (config.auth.kind === 'service-account') url.searchParams.set('project_id', config.auth.projectId);
  } else {
    url.searchParams.set('verbose', '1');
  }
  return url;
}

/** The Basic `Authorization` header of `/import` for the configured credentials. */
export function basicAuth(config: MixpanelConfig): string {
  const { auth } = config;
  const user =
    auth.kind === 'service-account'
      ? `${auth.username}:${auth.secret}`
      : auth.kind === 'api-secret'
        ? `${auth.secret}:`
        : `${auth.token}:`;
  return `Basic ${Buffer.from(user).toString('base64')}`;
}
