import type { IdMergeMode } from '@idmerge/shared/payload';
import { REGION_HOSTS, type Region } from '@idmerge/shared/sender';
import type { GlobalSetting } from './actions-core.js';

/** Destination settings as Segment stores them (field keys are the wire names). */
export interface Settings {
  project_token: string;
  id_merge_api: IdMergeMode;
  region?: Region;
  service_account_username?: string;
  service_account_secret?: string;
  project_id?: string;
  api_secret?: string;
  strict_mode?: boolean;
  api_host?: string;
}

export const settingsFields: Record<keyof Settings, GlobalSetting> = {
  project_token: {
    label: 'Project token',
    description: 'The project token (Project Settings → Access Keys). Written into every profile update.',
    type: 'string',
    required: true,
  },
  id_merge_api: {
    label: 'ID Merge API',
    description:
      'The identity API your Mixpanel project uses (Project Settings → Identity Merge). Payloads differ per API; a wrong choice splits or wrongly merges users.',
    type: 'string',
    required: true,
    choices: [
      { label: 'Simplified ID Merge', value: 'simplified' },
      { label: 'Original ID Merge', value: 'original' },
    ],
  },
  region: {
    label: 'Data residency region',
    description: 'Where the project stores data: US (api.mixpanel.com), EU (api-eu) or India (api-in).',
    type: 'string',
    default: 'us',
    choices: [
      { label: 'US', value: 'us' },
      { label: 'EU', value: 'eu' },
      { label: 'India', value: 'in' },
    ],
  },
  service_account_username: {
    label: 'Service account username',
    description: 'Service account used to authenticate /import (recommended). Needs the project ID.',
    type: 'string',
  },
  service_account_secret: {
    label: 'Service account secret',
    description: 'Secret of the service account.',
    type: 'password',
  },
  project_id: {
    label: 'Project ID',
    description: 'Numeric project ID; required with a service account.',
    type: 'string',
  },
  api_secret: {
    label: 'API secret',
    description: 'Legacy project API secret, used for /import when no service account is given.',
    type: 'password',
  },
  strict_mode: {
    label: 'Strict mode',
    description:
      'Ask /import to validate each event and report the failed ones (strict=1), so each failure is attributed to its Segment event. Recommended.',
    type: 'boolean',
    default: true,
  },
  api_host: {
    label: 'API host override',
    description:
      'Base URL to send to instead of the region host, e.g. a local `idmerge sandbox` (http://127.0.0.1:4000). Leave empty in production.',
    type: 'string',
  },
};

export function apiHost(settings: Settings): string {
  const custom = settings.api_host?.trim();
  return (custom ? custom : REGION_HOSTS[settings.region ?? 'us']).replace(/\/+$/, '');
}

/** Basic auth for /import: the service account when given, else the API secret; the query it needs. */
export function importAuth(settings: Settings): { authorization: string; query: string } | undefined {
  if (settings.service_account_username && settings.service_account_secret) {
    const basic = Buffer.from(`${settings.service_account_username}:${settings.service_account_secret}`);
    return {
      authorization: `Basic ${basic.toString('base64')}`,
      query: settings.project_id ? `project_id=${encodeURIComponent(settings.project_id)}` : '',
    };
  }
  if (settings.api_secret) {
    return { authorization: `Basic ${Buffer.from(`${settings.api_secret}:`).toString('base64')}`, query: '' };
  }
  return undefined;
}
