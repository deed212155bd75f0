export * from './payload/index.js';
