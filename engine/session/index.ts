/** The session file format: load (validate, migrate) and save (canonical JSON). Pure: no I/O here. */
export * from './format.ts';
export { loadSession, sizeError } from './load.ts';
export { serializeSession, semanticKey, sessionDocument, sortKeys } from './save.ts';
export { formatBytes } from './json-text.ts';
