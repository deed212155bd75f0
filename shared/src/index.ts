export * from './payload/index.js';
export * from './validation/index.js';
export * from './identity/index.js';
export * from './mapping/index.js';
export * from './sender/index.js';
export * from './sandbox/index.js';
