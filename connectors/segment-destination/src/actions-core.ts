import { createRequire } from 'node:module';
import type * as ActionsCore from '@segment/actions-core';

/**
 * `@segment/actions-core` publishes an ESM build that Node cannot import natively (it uses directory
 * imports), so the runtime is loaded through its CommonJS entry; the types come from the package.
 */
const require = createRequire(import.meta.url);
const core = require('@segment/actions-core') as typeof ActionsCore;

export const {
  createTestIntegration,
  Destination,
  defaultValues,
  MultiStatusResponse,
  IntegrationError,
  RetryableError,
  APIError,
  PayloadValidationError,
  InvalidAuthenticationError,
} = core;
export type {
  ActionDefinition,
  DestinationDefinition,
  GlobalSetting,
  InputField,
  Preset,
  RequestClient,
} from '@segment/actions-core';
