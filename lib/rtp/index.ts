export * from './extension-values.js';
export * from './header-extensions.js';
export * from './rtp-packet.js';
export * from './rtx.js';
export * from './sequence.js';
