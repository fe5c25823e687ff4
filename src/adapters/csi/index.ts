// The CSI v1 node-side adapter: client, decoded response types, errors.
export * from './client.ts';
export * from './codecs.ts';
export * from './errors.ts';
export type * from './types.ts';
