import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import type { Test } from 'tap';
import { decodeErrorCode } from '../../lib/stun/attributes/error-code.js';
import { decodeUnknownAttributes } from '../../lib/stun/attributes/unknown-attributes.js';
import { StunMessageBuilder } from '../../lib/stun/builder.js';
import { AttributeType as A, StunClass, StunMethod } from '../../lib/stun/constants.js';
import { longTermKey } from '../../lib/stun/integrity.js';
import type { StunMessage } from '../../lib/stun/message.js';
import type { TransportAddress } from '../../lib/stun/transport-address.js';
import { TurnClient } from '../../lib/turn/client.js';
import type { RelayDirection, TurnObserver } from '../../lib/turn/observer.js';
import type { TurnServerOptions } from '../../lib/turn/options.js';
import { TurnServer } from '../../lib/turn/server.js';
import type { Random } from '../helpers/prng.js';
import { delay, type RawUdp, within } from '../helpers/raw-stun.js';
import {
  type BytePool,
  channelDataVariant,
  mutateBody,
  mutateMessage,
  seal,
} from '../helpers/stun-mutations.js';

/** Servers, clients, a peer and fuzz inputs for server-fuzz-live.spec.ts, all on loopback. */

export const REALM = 'rtcd.fuzz';
export const USER = 'alice';
export const PASSWORD = 'alice-pw';
export const KEY = longTermKey(USER, REALM, PASSWORD);
export const PEER_IP = '127.13.37.1';

/** Counts every outcome the server reports (drops, responses, relays), also by label. */
export class TallyObserver implements TurnObserver {
  events = 0;
  private readonly labels = new Map<string, number>();
  drop(reason: string) {
    this.add(`drop ${reason}`);
  }
  response(method: string, code: number) {
    this.add(`${method} ${code}`);
  }
  authFailure() {}
  relayed(direction: RelayDirection) {
    this.add(`relayed ${direction}`);
  }
  gauges() {}
  count(label: string): number {
    return this.labels.get(label) ?? 0;
  }
  private add(label: string) {
    this.events++;
    this.labels.set(label, (this.labels.get(label) ?? 0) + 1);
  }
}

export interface Started {
  server: TurnServer;
  udp: TransportAddress;
  tcp: TransportAddress;
}

export async function start(
  t: Test,
  options: TurnServerOptions,
  observer?: TurnObserver,
): Promise<Started> {
  const server = new TurnServer(
    {
      listen: [{ host: '127.0.0.1', port: 0 }],
      realm: REALM,
      users: { [USER]: PASSWORD },
      drainTimeoutMs: 0,
      ...options,
    },
    observer ? { observer } : {},
  );
  await server.start();
  t.teardown(() => server.close());
  const at = (port: number): TransportAddress => ({ family: 4, address: '127.0.0.1', port });
  return { server, udp: at(server.addresses.udp[0]!.port), tcp: at(server.addresses.tcp[0]!.port) };
}

export function connectClient(
  t: Test,
  server: TransportAddress,
  transport: 'udp' | 'tcp',
  credentials = true,
): Promise<TurnClient> {
  return TurnClient.connect({
    server: { host: server.address, port: server.port },
    transport,
    ...(credentials ? { username: USER, password: PASSWORD } : {}),
    localAddress: '127.0.0.1',
    rtoMs: 100,
  }).then((client) => {
    t.teardown(() => client.close());
    return client;
  });
}

export const udpTransport = (b: StunMessageBuilder) =>
  b.add(A.REQUESTED_TRANSPORT, Buffer.from([17, 0, 0, 0]));

/** A request body: method attributes, then USERNAME/REALM/NONCE when `nonce` is given. */
export function body(
  method: number,
  add: (b: StunMessageBuilder) => void,
  nonce?: string,
  cls: StunClass = StunClass.request,
) {
  const b = new StunMessageBuilder(cls, method, randomBytes(12));
  add(b);
  const methodEnd = b.length;
  if (nonce !== undefined) {
    b.addString(A.USERNAME, USER).addString(A.REALM, REALM).addString(A.NONCE, nonce);
  }
  return { body: Buffer.from(b.toBuffer()), methodEnd };
}

export function code(m: StunMessage): number {
  if (m.messageClass === StunClass.success) return 0;
  const a = m.get(A.ERROR_CODE);
  return (a && decodeErrorCode(m, a)?.code) ?? -1;
}

export function unknownAttributes(m: StunMessage): number[] | undefined {
  const a = m.get(A.UNKNOWN_ATTRIBUTES);
  return a && decodeUnknownAttributes(m, a);
}

/** A plain UDP peer on `PEER_IP`. */
export class Peer {
  private readonly socket = createSocket('udp4');
  address: TransportAddress = { family: 4, address: PEER_IP, port: 0 };

  static async open(): Promise<Peer> {
    const peer = new Peer();
    peer.socket.bind(0, PEER_IP);
    await once(peer.socket, 'listening');
    peer.address = { ...peer.address, port: peer.socket.address().port };
    return peer;
  }

  /** Where the first datagram equal to `payload` came from. */
  waitFor(payload: Buffer): Promise<TransportAddress> {
    return new Promise((resolve) => {
      const on = (data: Buffer, rinfo: { address: string; port: number }) => {
        if (!data.equals(payload)) return;
        this.socket.off('message', on);
        resolve({ family: 4, address: rinfo.address, port: rinfo.port });
      };
      this.socket.on('message', on);
    });
  }

  send(to: TransportAddress, data: Buffer): void {
    this.socket.send(data, to.port, to.address);
  }

  close(): void {
    this.socket.close();
  }
}

/** Sends every 250 ms (UDP may lose a datagram under load) until `result` settles. */
export async function retrying<T>(send: () => void, result: Promise<T>, what: string): Promise<T> {
  const timer = setInterval(send, 250);
  send();
  try {
    return await within(result, 5000, what);
  } finally {
    clearInterval(timer);
  }
}

/** Data from the client reaches the peer from the relayed address, and back. */
export async function roundTrip(
  t: Test,
  client: TurnClient,
  relayed: TransportAddress,
  peer: Peer,
  label: string,
): Promise<void> {
  const out = Buffer.from(`${label}: to the peer ${randomBytes(4).toString('hex')}`);
  const from = await retrying(() => client.send(peer.address, out), peer.waitFor(out), label);
  t.same(from, relayed, `${label}: the peer got it from the relayed address`);
  const back = Buffer.from(`${label}: to the client ${randomBytes(4).toString('hex')}`);
  const got = new Promise<TransportAddress>((resolve) => {
    const on = (p: TransportAddress, data: Buffer) => {
      if (!data.equals(back)) return;
      client.off('data', on);
      resolve(p);
    };
    client.on('data', on);
  });
  t.same(
    await retrying(() => peer.send(relayed, back), got, label),
    peer.address,
    `${label}: and back`,
  );
}

export interface LiveSeed {
  from: RawUdp;
  body: Buffer;
  methodEnd: number;
  key: Buffer | undefined;
  fingerprint: boolean;
  sealed: Buffer;
}

/** What a fuzz socket starts from: requests signed with its own nonce, and unsigned ones. */
export function liveSeeds(
  rng: Random,
  from: RawUdp,
  nonce: string,
  peer: TransportAddress,
): LiveSeed[] {
  const channel = (b: StunMessageBuilder) =>
    b.add(A.CHANNEL_NUMBER, Buffer.from([0x40, 0x01, 0, 0]));
  const signed: [number, (b: StunMessageBuilder) => void][] = [
    [StunMethod.allocate, udpTransport],
    [StunMethod.refresh, (b) => b.addUint32(A.LIFETIME, 600)],
    [StunMethod.createPermission, (b) => b.addXorAddress(A.XOR_PEER_ADDRESS, peer)],
    [StunMethod.channelBind, (b) => channel(b.addXorAddress(A.XOR_PEER_ADDRESS, peer))],
  ];
  const seeds: LiveSeed[] = [];
  const add = (b: { body: Buffer; methodEnd: number }, key: Buffer | undefined) => {
    const fingerprint = rng.chance(0.7);
    const sealed = seal(b.body, { key, fingerprint });
    seeds.push({ from, ...b, key, fingerprint, sealed });
  };
  for (const [method, write] of signed) add(body(method, write, nonce), KEY);
  add(body(StunMethod.allocate, udpTransport), undefined);
  add(
    body(StunMethod.binding, () => {}),
    undefined,
  );
  add(
    body(StunMethod.binding, (b) => b.add(0x0031, Buffer.alloc(4))),
    undefined,
  );
  const send = (b: StunMessageBuilder) =>
    b.addXorAddress(A.XOR_PEER_ADDRESS, peer).add(A.DATA, Buffer.from('fuzz'));
  add(body(StunMethod.send, send, undefined, StunClass.indication), undefined);
  return seeds;
}

/** One fuzz datagram or frame: random, as is, mutated, re-signed after mutation, ChannelData. */
export function fuzzInput(rng: Random, pool: BytePool, seed: LiveSeed, padded: boolean): Buffer {
  const roll = rng.int(100);
  if (roll < 5) return Buffer.from(pool.take(rng, rng.int(120)));
  if (roll < 15) return seed.sealed;
  if (roll < 55) return mutateMessage(rng, seed.sealed, pool);
  if (roll < 85) return seal(mutateBody(rng, seed.body, seed.methodEnd, pool), seed);
  const channel = rng.chance(0.5) ? 0x4001 : 0x4000 + rng.int(0x1000);
  const n = rng.chance(0.95) ? rng.int(100) : rng.int(1400);
  return channelDataVariant(rng, channel, pool.take(rng, n), padded);
}

/**
 * Yields to the event loop (the server runs in this process) until the observer has counted
 * `events`, or has not moved for a while: sending faster than the server reads only
 * overflows the socket's receive buffer, and those datagrams never reach the server.
 */
export async function caughtUp(observer: TallyObserver, events: number): Promise<void> {
  const deadline = Date.now() + 2000;
  let last = observer.events;
  let still = 0;
  while (observer.events < events && still < 50 && Date.now() < deadline) {
    await new Promise((resolve) => setImmediate(resolve));
    still = observer.events === last ? still + 1 : 0;
    last = observer.events;
  }
}

/** Polls until the observer has seen nothing new for `quietMs` (or `maxMs` passed). */
export async function settled(
  observer: TallyObserver,
  quietMs = 300,
  maxMs = 15000,
): Promise<void> {
  const deadline = Date.now() + maxMs;
  let last = -1;
  while (observer.events !== last && Date.now() < deadline) {
    last = observer.events;
    await delay(quietMs);
  }
}
