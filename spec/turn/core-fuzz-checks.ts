import { decodeXorAddress } from '../../lib/stun/attributes/address.js';
import { AttributeType as A, StunClass, StunMethod } from '../../lib/stun/constants.js';
import { verifyMessageIntegrity, verifyMessageIntegritySha256 } from '../../lib/stun/integrity.js';
import { decodeStunMessage } from '../../lib/stun/message.js';
import type { TurnCore } from '../../lib/turn/server-core.js';
import { errorCode, type FakeClient, type FakeRelay, type TestClient } from './core-fixture.js';
import { LIMITS } from './core-fuzz-corpus.js';

/** The invariants the core fuzzer checks after each input and at each clock step. */

export interface ProblemDetail {
  input?: Buffer;
  sender?: TestClient;
  error?: unknown;
  /** What else reproduces it (a peer datagram's source and length…). */
  context?: string;
}

/** Broken invariants, the first occurrence of each, with what reproduces it. */
export class Problems {
  readonly found = new Map<string, string>();

  get size(): number {
    return this.found.size;
  }

  add(what: string, d: ProblemDetail = {}): void {
    if (this.found.has(what)) return;
    const lines = [what];
    if (d.context) lines.push(`  ${d.context}`);
    if (d.sender) lines.push(`  from ${d.sender.ref.key} (${d.sender.username || 'no user'})`);
    if (d.input) {
      const shown = d.input.subarray(0, 512).toString('hex');
      lines.push(`  input (${d.input.length} bytes): ${shown}${d.input.length > 512 ? '…' : ''}`);
    }
    if (d.error instanceof Error) lines.push(`  ${d.error.stack ?? d.error.message}`);
    else if (d.error !== undefined) lines.push(`  ${String(d.error)}`);
    this.found.set(what, lines.join('\n'));
  }
}

/**
 * A response to a client input: decodable, a response class, the request's transaction ID,
 * integrity on every authenticated success (one of `keys` verifies it), REALM and NONCE on
 * 401 and 438, UNKNOWN-ATTRIBUTES on 420.
 */
export function checkResponse(
  problems: Problems,
  keys: readonly Buffer[],
  bytes: Buffer,
  transactionId: Buffer,
  d: ProblemDetail = {},
): void {
  const decoded = decodeStunMessage(bytes);
  if (!decoded.ok) {
    problems.add(`undecodable response (${decoded.reason})`, d);
    return;
  }
  const m = decoded.message;
  const success = m.messageClass === StunClass.success;
  if (!success && m.messageClass !== StunClass.error) {
    problems.add('a response of class request or indication', d);
  }
  if (!m.transactionId.equals(transactionId)) {
    problems.add('a response with another transaction ID', d);
  }
  if (success && m.method !== StunMethod.binding) {
    const sha256 = m.has(A.MESSAGE_INTEGRITY_SHA256);
    const verify = sha256 ? verifyMessageIntegritySha256 : verifyMessageIntegrity;
    if (!keys.some((k) => verify(m, k))) {
      problems.add('a success response without valid integrity', d);
    }
  }
  const code = errorCode(m);
  if ((code === 401 || code === 438) && !(m.has(A.REALM) && m.has(A.NONCE))) {
    problems.add(`${code} without REALM and NONCE`, d);
  }
  if (code === 420 && !m.has(A.UNKNOWN_ATTRIBUTES)) {
    problems.add('420 without UNKNOWN-ATTRIBUTES', d);
  }
}

/**
 * A peer datagram as the client gets it: ChannelData on the channel bound to that peer
 * (padded on TCP), or a Data indication naming the peer; the datagram itself unchanged.
 */
export function checkFraming(
  problems: Problems,
  core: TurnCore<FakeClient, FakeRelay>,
  bytes: Buffer,
  client: FakeClient,
  peer: { address: string; port: number; data: Buffer },
  context: string,
): void {
  const { address, port, data } = peer;
  if ((bytes[0]! & 0xf0) === 0x40) {
    const channel = core.table.get(client)?.channels.get(bytes.readUInt16BE(0));
    const padding = client.transport === 'udp' ? 0 : (4 - (data.length & 3)) & 3;
    if (
      channel?.peer.address !== address ||
      channel.peer.port !== port ||
      bytes.readUInt16BE(2) !== data.length ||
      bytes.length !== 4 + data.length + padding ||
      !bytes.subarray(4, 4 + data.length).equals(data)
    ) {
      problems.add('bad ChannelData framing of a peer datagram', { context });
    }
    return;
  }
  const decoded = decodeStunMessage(bytes);
  const m = decoded.ok ? decoded.message : undefined;
  const peerAttribute = m?.get(A.XOR_PEER_ADDRESS);
  const from = m && peerAttribute && decodeXorAddress(m, peerAttribute);
  if (
    m === undefined ||
    m.messageClass !== StunClass.indication ||
    m.method !== StunMethod.data ||
    from?.address !== address ||
    from.port !== port ||
    !m.value(A.DATA)?.equals(data)
  ) {
    problems.add('bad Data indication framing of a peer datagram', { context });
  }
}

export interface StateView {
  core: TurnCore<FakeClient, FakeRelay>;
  /** Relay sockets opened and not closed. */
  live: ReadonlySet<FakeRelay>;
  gauges: { allocations: number; permissions: number; channels: number; connections: number };
  connections: number;
}

/**
 * The core's state is bounded and agrees with itself: allocations within the limits, the
 * gauges equal to what the table holds, channels by number and by peer the same bindings,
 * every open relay socket held by an allocation or a reservation (none leaked, none lost).
 */
export function checkState(problems: Problems, s: StateView): void {
  let allocations = 0;
  let permissions = 0;
  let channels = 0;
  let relays = 0;
  const perUser = new Map<string, number>();
  for (const a of s.core.table.values()) {
    allocations++;
    perUser.set(a.user, (perUser.get(a.user) ?? 0) + 1);
    if (a.relay !== undefined) {
      relays++;
      if (!s.live.has(a.relay)) problems.add('an allocation holds a closed relay');
    }
    for (const e of a.peers.values()) {
      if (e.counted) permissions++;
      for (const [port, c] of e.channels) {
        if (a.channels.get(c.number) !== c || c.peer.port !== port) {
          problems.add('channels by peer and by number disagree');
        }
      }
    }
    for (const c of a.channels.values()) {
      if (a.peers.get(c.entry.address) !== c.entry || c.entry.channels.get(c.peer.port) !== c) {
        problems.add('channels by number and by peer disagree');
      }
    }
    channels += a.channels.size;
    if (a.channels.size > 0x1000) problems.add('more channels than channel numbers');
  }
  if (allocations > LIMITS.maxAllocations) problems.add('more allocations than maxAllocations');
  for (const n of perUser.values()) {
    if (n > LIMITS.maxAllocationsPerUser) {
      problems.add('more allocations than maxAllocationsPerUser');
    }
  }
  const want = { allocations, permissions, channels, connections: s.connections };
  if (JSON.stringify(s.gauges) !== JSON.stringify(want)) {
    problems.add(`gauges ${JSON.stringify(s.gauges)} but the table holds ${JSON.stringify(want)}`);
  }
  if (s.live.size !== relays + s.core.reservations.size) {
    problems.add(
      `${s.live.size} relay sockets open, ${relays} held by allocations and ` +
        `${s.core.reservations.size} by reservations`,
    );
  }
}
