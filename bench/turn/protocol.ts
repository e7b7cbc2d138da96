/**
 * Messages between the bench's measuring process and its forked children (load generator,
 * peer sinks, allocation workers). Node's IPC channel carries them as JSON.
 */

export interface Endpoint {
  host: string;
  port: number;
}

export interface Credentials {
  username: string;
  password: string;
}

/**
 * How a generator flow reaches its sink:
 * - `direct`: straight to the sink (no server; the generator's own ceiling);
 * - `bare`: ChannelData-framed datagrams to the bare forwarder, channel 0x4000 + flow index;
 * - `turn`: a TurnClient allocation with a channel bound to the sink.
 */
export type FlowMode = 'direct' | 'bare' | 'turn';

export interface FlowSpec {
  /** Index of the flow among all flows of the run (the bare forwarder's channel offset). */
  index: number;
  sink: Endpoint;
  credentials?: Credentials;
}

export type ToGenerator =
  | { type: 'setup'; mode: FlowMode; target?: Endpoint; flows: FlowSpec[]; payloadSize: number }
  | { type: 'run'; step: number; rate: number; durationMs: number }
  | { type: 'close' };

export type FromGenerator =
  | { type: 'ready'; flows: number }
  | { type: 'done'; step: number; sent: number; elapsedMs: number; sendErrors: number }
  | { type: 'closed' }
  | { type: 'error'; message: string };

export type ToSink = { type: 'open'; sockets: number } | { type: 'step'; step: number };

export type FromSink =
  | { type: 'opened'; ports: number[] }
  | { type: 'stepped'; step: number; previousReceived: number; stale: number }
  | { type: 'error'; message: string };

export interface AllocJob {
  type: 'alloc';
  server: Endpoint;
  users: Credentials[];
  count: number;
  concurrency: number;
  timeoutMs: number;
  /** Cycle i binds source address number `sourceOffset + i` (distinct 5-tuples across jobs). */
  sourceOffset: number;
}

export type FromAllocWorker =
  | {
      type: 'alloc-done';
      ok: number;
      failed: number;
      errors: Record<string, number>;
      elapsedMs: number;
    }
  | { type: 'error'; message: string };

/** Every IPC message has a string `type`; this is all the parent relies on before dispatch. */
export function isTyped(m: unknown): m is { type: string } {
  return typeof m === 'object' && m !== null && typeof Reflect.get(m, 'type') === 'string';
}

/** Payload bytes 0..3 carry the step number so late packets of a step are not counted later. */
export const STEP_OFFSET = 0;

/** `CODE: message` of an error (TurnClientError codes included), for reports. */
export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = Reflect.get(err, 'code');
    return typeof code === 'string' ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
