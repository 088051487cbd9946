// Public surface of @weave-ts/weaver.
export * from './api-backend.js';
export * from './go-template.js';
export * from './http-api.js';
export * from './log.js';
export * from './metrics.js';
export * from './peer-backend.js';
export * from './services.js';
export * from './weaver-config.js';
export * from './weaver.js';
export * from './docker/index.js';
