import type { SignalErrorCode } from './errors.js';
import type { ClientMessage } from './protocol.js';

/** The messages addressed `to` a peer, relayed with `from`. */
export type Relayable = Extract<ClientMessage, { to: string }>;

/**
 * The frame a relayed message becomes: rebuilt from the validated fields with the sender's
 * id as `from`, so nothing the client added (a forged `from`, unknown fields) goes through.
 */
export function relayFrame(from: string, m: Relayable): string {
  switch (m.type) {
    case 'offer':
    case 'answer':
      return JSON.stringify({ type: m.type, from, sdp: m.sdp });
    case 'candidate':
      return JSON.stringify({ type: m.type, from, candidate: m.candidate });
    case 'message':
      return JSON.stringify({ type: m.type, from, data: m.data });
  }
}

/** The `message` of the error a relay got. */
export function relayMessage(code: SignalErrorCode, m: Relayable): string {
  switch (code) {
    case 'not-joined':
      return 'join a room first';
    case 'unknown-peer':
      return `no peer "${m.to}" in your room`;
    case 'redis-unavailable':
      return `not delivered to "${m.to}": the store is unavailable`;
    default:
      return code;
  }
}
