/**
 * Messages between `benchMux` and its two children (the server under test and the load
 * generator), and the credentials both sides derive from a session index so that no table
 * crosses the IPC channel.
 */

/** The local ufrag of session `i`: 8 ice-chars. */
export function benchUfrag(i: number): string {
  return `u${i.toString(36).padStart(7, '0')}`;
}

/** The local password of session `i`: 24 ice-chars. */
export function benchPwd(i: number): string {
  return `p${i.toString(36).padStart(7, '0')}BenchPasswordXX`;
}

export type ServerKind = 'mux' | 'bare';

export type ServerIn = { type: 'start'; kind: ServerKind; sessions: number } | { type: 'stop' };

export type ServerOut =
  | {
      type: 'ready';
      port: number;
      /** Heap + ArrayBuffer bytes per registered session, after GC (mux only). */
      bytesPerSession: number;
    }
  | { type: 'stopped'; cpuUs: number; answered: number }
  | { type: 'error'; message: string };

export type LoadIn = {
  type: 'run';
  port: number;
  sessions: number;
  durationMs: number;
  window: number;
  /** A bare echo answers anything: send the same precomputed checks. */
};

export type LoadOut =
  | { type: 'done'; sent: number; received: number; elapsedMs: number; cpuUs: number }
  | { type: 'error'; message: string };

export function isMessage(m: unknown): m is { type: string } {
  return typeof m === 'object' && m !== null && typeof Reflect.get(m, 'type') === 'string';
}
