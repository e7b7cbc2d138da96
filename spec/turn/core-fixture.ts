import { randomBytes } from 'node:crypto';
import { decodeAddress, decodeXorAddress } from '../../lib/stun/attributes/address.js';
import { decodeErrorCode } from '../../lib/stun/attributes/error-code.js';
import { decodeString, StringLimit } from '../../lib/stun/attributes/string.js';
import { StunMessageBuilder } from '../../lib/stun/builder.js';
import { AttributeType, StunClass, StunMethod } from '../../lib/stun/constants.js';
import { longTermKey } from '../../lib/stun/integrity.js';
import { decodeStunMessage, type StunMessage } from '../../lib/stun/message.js';
import type { TransportAddress } from '../../lib/stun/transport-address.js';
import type { ClientRef, RelayRequest, RelayResult, TurnEffects } from '../../lib/turn/effects.js';
import type { RelayDirection, TurnObserver } from '../../lib/turn/observer.js';
import type { TurnServerOptions } from '../../lib/turn/options.js';
import { resolveTurnOptions } from '../../lib/turn/resolve-options.js';
import { TurnCore } from '../../lib/turn/server-core.js';

/**
 * Drives `TurnCore` with no sockets: fake refs, a recording `TurnEffects`, a recording
 * observer and a clock the test moves by hand.
 */

export const REALM = 'test.realm';
export const RELAY_V4 = '192.0.2.10';
export const RELAY_V6 = '2001:db8::10';
export const SERVER: TransportAddress = { family: 4, address: '192.0.2.1', port: 3478 };

export class FakeClient implements ClientRef {
  readonly key: string;
  constructor(
    readonly remote: TransportAddress,
    readonly transport: 'udp' | 'tcp' | 'tls' = 'udp',
    readonly local: TransportAddress = SERVER,
  ) {
    this.key = `${transport}/${remote.address}:${remote.port}`;
  }
}

export class FakeRelay {
  constructor(readonly address: TransportAddress) {}
}

export interface Delivery {
  client: FakeClient;
  bytes: Buffer;
}

export interface PeerDelivery {
  relay: FakeRelay;
  peer: TransportAddress;
  data: Buffer;
}

export class RecordingEffects implements TurnEffects<FakeClient, FakeRelay> {
  readonly toClients: Delivery[] = [];
  readonly toPeers: PeerDelivery[] = [];
  readonly relayRequests: RelayRequest<FakeClient>[] = [];
  readonly closedRelays: FakeRelay[] = [];
  readonly releasedClients: FakeClient[] = [];
  readonly closedClients: string[] = [];

  sendToClient(client: FakeClient, head: Uint8Array, body?: Uint8Array, padding = 0): void {
    const parts = [Buffer.from(head)];
    if (body) parts.push(Buffer.from(body));
    parts.push(Buffer.alloc(padding));
    this.toClients.push({ client, bytes: Buffer.concat(parts) });
  }
  sendToPeer(
    relay: FakeRelay,
    peer: TransportAddress,
    data: Uint8Array,
    offset: number,
    length: number,
  ) {
    this.toPeers.push({ relay, peer, data: Buffer.from(data.subarray(offset, offset + length)) });
  }
  openRelay(request: RelayRequest<FakeClient>): void {
    this.relayRequests.push(request);
  }
  closeRelay(relay: FakeRelay): void {
    this.closedRelays.push(relay);
  }
  released(client: FakeClient): void {
    this.releasedClients.push(client);
  }
  closeClient(client: FakeClient, reason: string): void {
    this.closedClients.push(`${client.key} ${reason}`);
  }
}

export class RecordingObserver implements TurnObserver {
  readonly drops: string[] = [];
  readonly responses: string[] = [];
  readonly authFailures: string[] = [];
  readonly relayedBytes: Record<RelayDirection, number> = {
    'client-to-peer': 0,
    'peer-to-client': 0,
  };
  lastGauges = { allocations: 0, permissions: 0, channels: 0, connections: 0 };
  drop(reason: string) {
    this.drops.push(reason);
  }
  response(method: string, code: number) {
    this.responses.push(`${method} ${code}`);
  }
  authFailure(reason: string) {
    this.authFailures.push(reason);
  }
  relayed(direction: RelayDirection, bytes: number) {
    this.relayedBytes[direction] += bytes;
  }
  gauges(counts: typeof this.lastGauges) {
    this.lastGauges = { ...counts };
  }
}

export interface Fixture {
  core: TurnCore<FakeClient, FakeRelay>;
  effects: RecordingEffects;
  observer: RecordingObserver;
  clock: { now: number };
  nextPort: { value: number };
  /** Answers every outstanding relay request (ok unless `fail` is given). */
  openRelays(fail?: string): void;
}

export function fixture(options: TurnServerOptions = {}): Fixture {
  const resolved = resolveTurnOptions(
    {
      listen: [{ host: SERVER.address, port: SERVER.port }],
      relayIps: [RELAY_V4, RELAY_V6],
      realm: REALM,
      users: { alice: 'alice-pw', bob: 'bob-pw' },
      authSecrets: ['rest-secret'],
      ...options,
    },
    { nodeVersion: 'v20.0.0', interfaces: {} },
  );
  const effects = new RecordingEffects();
  const observer = new RecordingObserver();
  const core = new TurnCore<FakeClient, FakeRelay>({ options: resolved, effects, observer });
  const clock = { now: 1_000_000 };
  const nextPort = { value: 50000 };
  const openRelays = (fail?: string) => {
    const requests = effects.relayRequests.splice(0);
    for (const r of requests) {
      const address = r.family === 4 ? RELAY_V4 : RELAY_V6;
      let result: RelayResult<FakeRelay>;
      if (fail) {
        result = { ok: false, reason: fail };
      } else {
        const port = nextPort.value;
        nextPort.value += 2;
        const relayed: TransportAddress = { family: r.family, address, port };
        const next: TransportAddress = { family: r.family, address, port: port + 1 };
        result = {
          ok: true,
          relay: new FakeRelay(relayed),
          relayed,
          ...(r.reserveNext ? { reserved: { relay: new FakeRelay(next), relayed: next } } : {}),
        };
      }
      core.relayOpened(r.id, result, clock.now);
    }
  };
  return { core, effects, observer, clock, nextPort, openRelays };
}

export interface RequestOptions {
  /** Add USERNAME/REALM/NONCE/MESSAGE-INTEGRITY. Default true. */
  auth?: boolean;
  username?: string;
  password?: string;
  fingerprint?: boolean;
  sha256?: boolean;
  transactionId?: Buffer;
  nonce?: string;
  realm?: string;
}

/** A TURN client speaking through `handleClientPacket`, with a nonce it learns on 401. */
export class TestClient {
  nonce = '';
  readonly ref: FakeClient;
  username = 'alice';
  password = 'alice-pw';

  constructor(
    readonly f: Fixture,
    remote: TransportAddress = { family: 4, address: '198.51.100.7', port: 40000 },
    transport: 'udp' | 'tcp' | 'tls' = 'udp',
  ) {
    this.ref = new FakeClient(remote, transport);
  }

  /** Builds a request; `add` puts method attributes before the auth attributes. */
  build(
    method: number,
    add: (b: StunMessageBuilder) => void = () => {},
    o: RequestOptions = {},
    cls: StunClass = StunClass.request,
  ): Buffer {
    const b = new StunMessageBuilder(cls, method, o.transactionId ?? randomBytes(12));
    add(b);
    if (o.auth ?? true) {
      const username = o.username ?? this.username;
      b.addString(AttributeType.USERNAME, username)
        .addString(AttributeType.REALM, o.realm ?? REALM)
        .addString(AttributeType.NONCE, o.nonce ?? this.nonce);
      const key = longTermKey(username, REALM, o.password ?? this.password);
      if (o.sha256) b.addMessageIntegritySha256(key);
      else b.addMessageIntegrity(key);
    }
    if (o.fingerprint ?? true) b.addFingerprint();
    return b.toBuffer();
  }

  /**
   * Sends raw bytes; returns what the core sent back to this client (decoded STUN), after
   * answering any relay request the packet caused (unless `openRelays` is false).
   */
  sendRaw(bytes: Buffer, openRelays = true): StunMessage[] {
    const start = this.f.effects.toClients.length;
    this.f.core.handleClientPacket(this.ref, bytes, 0, bytes.length, this.f.clock.now);
    if (openRelays) this.f.openRelays();
    return this.f.effects.toClients
      .slice(start)
      .filter((d) => d.client.key === this.ref.key)
      .map((d) => decode(d.bytes));
  }

  /**
   * Sends a request and returns its single response; on a 401/438 learns the nonce. If the
   * first answer is a challenge and `o.auth` is not false, retries once with the new nonce.
   */
  request(
    method: number,
    add: (b: StunMessageBuilder) => void = () => {},
    o: RequestOptions = {},
  ): StunMessage {
    const auth = (o.auth ?? true) && o.nonce === undefined;
    if (auth && this.nonce === '') {
      // As real clients do: the first request goes without credentials, for the challenge.
      const challenge = this.once(method, add, { ...o, auth: false });
      if (errorCode(challenge) !== 401) return challenge;
    }
    const before = this.nonce;
    const response = this.once(method, add, o);
    const code = errorCode(response);
    if (auth && code === 438 && this.nonce !== before) return this.once(method, add, o);
    return response;
  }

  private once(method: number, add: (b: StunMessageBuilder) => void, o: RequestOptions) {
    const replies = this.sendRaw(this.build(method, add, o));
    if (replies.length !== 1) throw new Error(`expected one response, got ${replies.length}`);
    const response = replies[0];
    if (errorCode(response) === 401 || errorCode(response) === 438) this.learnNonce(response);
    return response;
  }

  learnNonce(m: StunMessage): void {
    const a = m.get(AttributeType.NONCE);
    if (a) this.nonce = decodeString(m, a, StringLimit.NONCE) ?? '';
  }

  /** Learns a nonce from the 401 challenge to an unauthenticated Allocate. */
  prime(): void {
    this.learnNonce(this.sendRaw(this.build(StunMethod.allocate, undefined, { auth: false }))[0]);
  }

  /** Sends an authenticated Allocate (REQUESTED-TRANSPORT UDP + `add`), relay left pending. */
  startAllocate(add: (b: StunMessageBuilder) => void = () => {}, o: RequestOptions = {}) {
    if (this.nonce === '') this.prime();
    const bytes = this.build(
      StunMethod.allocate,
      (b) => {
        b.add(AttributeType.REQUESTED_TRANSPORT, Buffer.from([17, 0, 0, 0]));
        add(b);
      },
      o,
    );
    return this.sendRaw(bytes, false);
  }

  /** Allocate with the defaults (UDP transport) plus `add`; returns the response. */
  allocate(add: (b: StunMessageBuilder) => void = () => {}, o: RequestOptions = {}): StunMessage {
    return this.request(
      StunMethod.allocate,
      (b) => {
        b.add(AttributeType.REQUESTED_TRANSPORT, Buffer.from([17, 0, 0, 0]));
        add(b);
      },
      o,
    );
  }
}

/** The relay socket of the client's allocation. */
export function relayOf(f: Fixture, client?: TestClient): FakeRelay {
  for (const allocation of f.core.table.values()) {
    if (allocation.relay && (!client || allocation.client === client.ref)) return allocation.relay;
  }
  throw new Error('no relay');
}

/** The last message sent to any client, decoded. */
export function lastSent(f: Fixture): StunMessage {
  const last = f.effects.toClients.at(-1);
  if (!last) throw new Error('nothing sent');
  return decode(last.bytes);
}

export function decode(bytes: Buffer): StunMessage {
  const d = decodeStunMessage(bytes);
  if (!d.ok) throw new Error(`undecodable response: ${d.reason}`);
  return d.message;
}

/** 0 for a success response, else its ERROR-CODE. */
export function errorCode(m: StunMessage): number {
  if (m.messageClass === StunClass.success) return 0;
  const a = m.get(AttributeType.ERROR_CODE);
  return (a && decodeErrorCode(m, a)?.code) ?? -1;
}

export function xorAddress(m: StunMessage, type: number): TransportAddress | undefined {
  const a = m.get(type);
  return a && decodeXorAddress(m, a);
}

export function plainAddress(m: StunMessage, type: number): TransportAddress | undefined {
  const a = m.get(type);
  return a && decodeAddress(m, a);
}

export function uint32(m: StunMessage, type: number): number | undefined {
  const a = m.get(type);
  return a && m.buffer.readUInt32BE(a.offset);
}

export function peerAttr(b: StunMessageBuilder, peer: TransportAddress): StunMessageBuilder {
  return b.addXorAddress(AttributeType.XOR_PEER_ADDRESS, peer);
}

export function channelAttr(b: StunMessageBuilder, channel: number): StunMessageBuilder {
  return b.add(AttributeType.CHANNEL_NUMBER, Buffer.from([channel >> 8, channel & 0xff, 0, 0]));
}

export function lifetimeAttr(b: StunMessageBuilder, seconds: number): StunMessageBuilder {
  return b.addUint32(AttributeType.LIFETIME, seconds);
}

/** A ChannelData message. */
export function channelData(channel: number, payload: Buffer): Buffer {
  const out = Buffer.alloc(4 + payload.length);
  out.writeUInt16BE(channel, 0);
  out.writeUInt16BE(payload.length, 2);
  payload.copy(out, 4);
  return out;
}
