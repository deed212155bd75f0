// A worker-thread entry for tests of the worker-hosted source: loads TypeScript through tsx, then
// serves the source as the idmerge program does in its worker role.
import { register } from 'tsx/esm/api';

register();
await import('./source-worker-serve.ts');
