/**
 * Shapes shared by the two halves of `npm run bench -- dtls`: bench/dtls/records.ts
 * (dtls-crypto: AEAD record throughput) and bench/dtls/handshakes.ts (dtls-handshake: full
 * handshakes per second). bench/dtls.ts runs both and prints the ratios.
 *
 * Contract for bench/dtls/handshakes.ts: export
 *   `runHandshakeBench(config: HandshakeBenchConfig, log: (line: string) => void):
 *    Promise<HandshakeRow[]>`
 * measuring rtcd (and werift unless `config.werift` is false) in the same run, bounded by
 * `config.seconds` per row; it may log progress lines through `log`.
 */

export interface HandshakeBenchConfig {
  /** Timed seconds per row and implementation (a smoke run passes ~0.05). */
  seconds: number;
  /** Measure werift beside rtcd. */
  werift: boolean;
}

export interface HandshakeRow {
  /** What was measured, e.g. 'server, ECDSA P-256, X25519, AES-128-GCM'. */
  name: string;
  /** rtcd full handshakes per second. */
  rtcd: number;
  /** werift full handshakes per second in the same run; undefined if not measured. */
  werift: number | undefined;
}

export type RunHandshakeBench = (
  config: HandshakeBenchConfig,
  log: (line: string) => void,
) => Promise<HandshakeRow[]>;
