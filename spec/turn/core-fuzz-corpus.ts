import { StunMessageBuilder } from '../../lib/stun/builder.js';
import { AttributeType as A, StunClass, StunMethod } from '../../lib/stun/constants.js';
import { longTermKey } from '../../lib/stun/integrity.js';
import type { TransportAddress } from '../../lib/stun/transport-address.js';
import type { Random } from '../helpers/prng.js';
import { seal } from '../helpers/stun-mutations.js';
import { channelAttr, lifetimeAttr, peerAttr, REALM, type TestClient } from './core-fixture.js';

/**
 * The seeds of the core fuzzer: one message per template and client, every method and class
 * the server sees, built with the client's current nonce (so they authenticate) and kept
 * both before integrity (`body`, for mutations that are then re-signed) and finished.
 */

export const USERS = { alice: 'alice-pw', bob: 'bob-pw' };
export const LIMITS = { maxAllocations: 4, maxAllocationsPerUser: 2 };
export const PEER: TransportAddress = { family: 4, address: '93.184.216.34', port: 6000 };
export const PEER2: TransportAddress = { family: 4, address: '93.184.216.35', port: 6001 };
export const PEER6: TransportAddress = { family: 6, address: '2606:4700::1111', port: 7000 };
export const FORBIDDEN: TransportAddress = { family: 4, address: '10.0.0.1', port: 80 };

export interface Seed {
  owner: TestClient;
  /** Header and attributes before MESSAGE-INTEGRITY. */
  body: Buffer;
  /** End of the method attributes (USERNAME/REALM/NONCE follow). */
  methodEnd: number;
  key: Buffer | undefined;
  sha256: boolean;
  fingerprint: boolean;
  sealed: Buffer;
}

export interface Template {
  method: number;
  cls?: StunClass;
  auth?: boolean;
  sha256?: boolean;
  /** Not for the clients holding the main allocations (it would delete them every epoch). */
  destructive?: boolean;
  /** Writes the method attributes; `token` is the latest RESERVATION-TOKEN seen. */
  add?: (b: StunMessageBuilder, token: Buffer) => void;
}

export const udpTransport = (b: StunMessageBuilder) =>
  b.add(A.REQUESTED_TRANSPORT, Buffer.from([17, 0, 0, 0]));
export const family6 = Buffer.from([2, 0, 0, 0]);

export const TEMPLATES: Template[] = [
  { method: StunMethod.allocate, add: udpTransport },
  { method: StunMethod.allocate, add: (b) => lifetimeAttr(udpTransport(b), 7200) },
  {
    method: StunMethod.allocate,
    add: (b) => udpTransport(b).add(A.EVEN_PORT, Buffer.from([0x80])),
  },
  {
    method: StunMethod.allocate,
    add: (b) => udpTransport(b).add(A.REQUESTED_ADDRESS_FAMILY, family6),
  },
  {
    method: StunMethod.allocate,
    add: (b) =>
      udpTransport(b)
        .add(A.ADDITIONAL_ADDRESS_FAMILY, family6)
        .add(A.DONT_FRAGMENT, Buffer.alloc(0)),
  },
  {
    method: StunMethod.allocate,
    add: (b, token) => udpTransport(b).add(A.RESERVATION_TOKEN, token),
  },
  { method: StunMethod.allocate, auth: false, add: udpTransport },
  { method: StunMethod.refresh, add: (b) => lifetimeAttr(b, 600) },
  { method: StunMethod.refresh, sha256: true },
  { method: StunMethod.refresh, destructive: true, add: (b) => lifetimeAttr(b, 0) },
  { method: StunMethod.refresh, add: (b) => b.add(A.REQUESTED_ADDRESS_FAMILY, family6) },
  { method: StunMethod.createPermission, add: (b) => peerAttr(peerAttr(b, PEER), PEER2) },
  { method: StunMethod.createPermission, sha256: true, add: (b) => peerAttr(b, PEER6) },
  { method: StunMethod.createPermission, add: (b) => peerAttr(b, FORBIDDEN) },
  { method: StunMethod.channelBind, add: (b) => channelAttr(peerAttr(b, PEER), 0x4001) },
  { method: StunMethod.channelBind, add: (b) => channelAttr(peerAttr(b, PEER6), 0x4fff) },
  {
    method: StunMethod.channelBind,
    add: (b) => channelAttr(peerAttr(b, { ...PEER2, port: 7000 }), 0x4123),
  },
  { method: StunMethod.binding, auth: false },
  { method: StunMethod.binding, auth: false, add: (b) => b.add(0x0031, Buffer.from('?')) },
  { method: 0x00a, add: udpTransport }, // not a TURN method: 400
  {
    method: StunMethod.send,
    cls: StunClass.indication,
    auth: false,
    add: (b) => peerAttr(b, PEER).add(A.DATA, Buffer.from('hello peer')),
  },
  {
    method: StunMethod.send,
    cls: StunClass.indication,
    auth: false,
    add: (b) => peerAttr(b, PEER6).add(A.DATA, Buffer.alloc(37, 1)),
  },
  { method: StunMethod.data, cls: StunClass.indication, auth: false },
  { method: StunMethod.binding, cls: StunClass.success, auth: false },
];

/** Every template for every client, signed with each client's key and nonce. */
export function corpus(
  rng: Random,
  clients: readonly TestClient[],
  mains: readonly TestClient[],
  token: Buffer,
): Seed[] {
  const seeds: Seed[] = [];
  for (const owner of clients) {
    const key = longTermKey(owner.username, REALM, owner.password);
    for (const tpl of TEMPLATES) {
      if (tpl.destructive && mains.includes(owner)) continue;
      const b = new StunMessageBuilder(tpl.cls ?? StunClass.request, tpl.method, rng.bytes(12));
      tpl.add?.(b, token);
      const methodEnd = b.length;
      const auth = tpl.auth ?? true;
      if (auth) {
        b.addString(A.USERNAME, owner.username)
          .addString(A.REALM, REALM)
          .addString(A.NONCE, owner.nonce);
      }
      const body = Buffer.from(b.toBuffer());
      const s = {
        owner,
        body,
        methodEnd,
        key: auth ? key : undefined,
        sha256: tpl.sha256 ?? false,
        fingerprint: rng.chance(0.7),
      };
      seeds.push({ ...s, sealed: seal(body, s) });
    }
  }
  return seeds;
}
