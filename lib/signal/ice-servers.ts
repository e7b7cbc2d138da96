import { restPassword } from '../turn/credentials.js';
import type { RtcIceServer } from './protocol.js';

export interface IceServerConfig {
  turnSecret: string | undefined;
  turnUrls: readonly string[];
  /** Seconds. */
  turnTtl: number;
}

/**
 * The RTCIceServer list a client gets: with a TURN secret, one entry with every URL and a TURN
 * REST credential (username `expiry:user`, password base64(HMAC-SHA1(secret, username)), the
 * scheme `rtcd turn --auth-secret` verifies with no shared state); without one, the URLs bare
 * (STUN needs no credential). Empty when no URL is configured.
 */
export function mintIceServers(c: IceServerConfig, user: string, nowMs: number): RtcIceServer[] {
  if (c.turnUrls.length === 0) return [];
  if (c.turnSecret === undefined) return [{ urls: [...c.turnUrls] }];
  // A colon would move the split point of `expiry:userid`; keep user ids tidy and short.
  const id = user.replace(/[^A-Za-z0-9._~@-]/g, '_').slice(0, 64) || 'anonymous';
  const username = `${Math.floor(nowMs / 1000) + c.turnTtl}:${id}`;
  return [{ urls: [...c.turnUrls], username, credential: restPassword(c.turnSecret, username) }];
}
