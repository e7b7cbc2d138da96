/** Moved to lib/util/wasm-encoder.ts (lib/srtp/ghash-simd.ts builds its module with it). */
export * from '../../lib/util/wasm-encoder.js';
