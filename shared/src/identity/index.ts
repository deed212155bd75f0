export type {
  Cluster,
  FailureReason,
  IdentityModel,
  IdentityModelOptions,
  IdentityStats,
  IngestOptions,
  IngestOutcome,
} from './types.js';
export { FAILURE_DESCRIPTIONS } from './model.js';
export { DEVICE_PREFIX, SimplifiedIdentityModel } from './simplified.js';
export { MAX_CLUSTER_IDS, OriginalIdentityModel } from './original.js';
export { createIdentityModel, resolveEvents, type ResolveDocument, type ResolvedEvent } from './resolve.js';
export { Hash64Set } from './hash64-set.js';
