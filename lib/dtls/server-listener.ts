/**
 * The server side of many DTLS peers on one socket, sans-IO. Before a peer has echoed a
 * HelloVerifyRequest cookie nothing is stored for it: the listener answers from the
 * datagram alone (RFC 6347 §4.2.1), so a flood of ClientHellos from spoofed addresses costs
 * one HMAC each and no memory. Only a ClientHello carrying a valid cookie creates a
 * `DtlsConnection` for its address.
 *
 * The cookie binds the address, the port and the hello's version, random and session id:
 * the fields that sit before the cookie in the first fragment, so a ClientHello fragmented
 * over several datagrams (Chromium's post-quantum key share) is answered from its first
 * fragment, and a client must retry with the same random (RFC 6347 §4.2.1).
 */

import { type DtlsCloseReason, DtlsConnection } from './connection.js';
import { ContentType, DTLS1_0, HandshakeType } from './constants.js';
import type { CookieJar } from './cookie.js';
import { encodeHandshake, readHandshakeFragments } from './handshake.js';
import { encodeHelloVerifyRequest } from './messages/hello-verify-request.js';
import type { DtlsOptions } from './options.js';
import { encodeRecord, readRecords } from './record.js';

export interface DtlsListenerOptions extends Omit<DtlsOptions, 'role'> {
  /** Mints and checks cookies. Required: share one between listeners to agree on cookies. */
  cookieJar: CookieJar;
  /** Connections held at once; ClientHellos beyond it are ignored. Default 4096. */
  maxConnections?: number;
  /** Expected fingerprints per peer, when they differ (e.g. looked up by ICE username). */
  remoteFingerprintsFor?(address: string, port: number): DtlsOptions['remoteFingerprints'];
}

export interface DtlsListenerSink {
  send(datagram: Buffer, address: string, port: number): void;
  /** A peer passed the cookie exchange: a connection now exists for it. */
  accepted?(conn: DtlsConnection, address: string, port: number): void;
  connected?(conn: DtlsConnection, address: string, port: number): void;
  data?(conn: DtlsConnection, data: Buffer, address: string, port: number): void;
  closed?(conn: DtlsConnection, reason: DtlsCloseReason, address: string, port: number): void;
}

export interface ListenerCounters {
  helloVerifyRequests: number;
  badCookies: number;
  accepted: number;
  ignored: number;
  /** Associations replaced by a new handshake from the same address (RFC 6347 §4.2.8). */
  restarts: number;
}

export class DtlsServerListener {
  readonly counters: ListenerCounters = {
    helloVerifyRequests: 0,
    badCookies: 0,
    accepted: 0,
    ignored: 0,
    restarts: 0,
  };
  private readonly connections = new Map<string, DtlsConnection>();
  /** The client random of the hello that created each connection. */
  private readonly randoms = new WeakMap<DtlsConnection, Buffer>();
  private readonly maxConnections: number;

  constructor(
    private readonly options: DtlsListenerOptions,
    private readonly sink: DtlsListenerSink,
  ) {
    if (options?.cookieJar === undefined) throw new TypeError('options.cookieJar is required');
    this.maxConnections = options.maxConnections ?? 4096;
    if (!Number.isInteger(this.maxConnections) || this.maxConnections < 1) {
      throw new TypeError('maxConnections must be a positive integer');
    }
  }

  /** Connections that passed the cookie exchange and are not closed. */
  get size(): number {
    return this.connections.size;
  }

  connection(address: string, port: number): DtlsConnection | undefined {
    return this.connections.get(key(address, port));
  }

  /** One datagram from `address`:`port`. Never throws on its content. */
  receive(datagram: Buffer, address: string, port: number, now: number): void {
    const existing = this.connections.get(key(address, port));
    if (existing !== undefined && !this.restarts(existing, datagram)) {
      existing.receive(datagram, now);
      return;
    }
    const hello = firstClientHello(datagram);
    if (hello === undefined) {
      this.counters.ignored++;
      return;
    }
    const jar = this.options.cookieJar;
    if (hello.cookie.length === 0 || !jar.verify(address, port, hello.prefix, hello.cookie, now)) {
      if (hello.cookie.length > 0) this.counters.badCookies++;
      this.counters.helloVerifyRequests++;
      const cookie = jar.mint(address, port, hello.prefix, now);
      const body = encodeHelloVerifyRequest({ serverVersion: DTLS1_0, cookie });
      // RFC 6347 §4.2.1: the HelloVerifyRequest reuses the hello's record sequence number.
      const record = encodeRecord({
        type: ContentType.handshake,
        version: DTLS1_0,
        epoch: 0,
        sequenceNumber: hello.recordSeq,
        fragment: encodeHandshake(HandshakeType.helloVerifyRequest, hello.messageSeq, body),
      });
      this.sink.send(record, address, port);
      return;
    }
    if (existing !== undefined) {
      this.counters.restarts++;
      existing.close();
      this.connections.delete(key(address, port));
    }
    if (this.connections.size >= this.maxConnections) {
      this.counters.ignored++;
      return;
    }
    this.counters.accepted++;
    const conn = this.create(address, port);
    this.randoms.set(conn, Buffer.from(hello.prefix.subarray(2, 34)));
    conn.receive(datagram, now);
  }

  /**
   * RFC 6347 §4.2.8: a peer that lost its state (a restart on the same port) starts over
   * with a new ClientHello in epoch 0. A hello with another random than the one that made
   * the connection goes through the stateless cookie exchange like any new peer; only once
   * it returns a valid cookie (which an off-path attacker cannot) is the old association
   * closed (close_notify) and replaced. Retransmissions of the original hello carry its
   * random and stay with the connection.
   */
  private restarts(existing: DtlsConnection, datagram: Buffer): boolean {
    if (existing.state === 'connecting') return false;
    const hello = firstClientHello(datagram);
    if (hello === undefined) return false;
    return !this.randoms.get(existing)?.equals(hello.prefix.subarray(2, 34));
  }

  /** Runs every connection's timer that is due. */
  handleTimeout(now: number): void {
    for (const conn of [...this.connections.values()]) {
      const due = conn.nextTimeout();
      if (due !== undefined && due <= now) conn.handleTimeout(now);
    }
  }

  /** The earliest timer of all connections, if any. */
  nextTimeout(): number | undefined {
    let min: number | undefined;
    for (const conn of this.connections.values()) {
      const t = conn.nextTimeout();
      if (t !== undefined && (min === undefined || t < min)) min = t;
    }
    return min;
  }

  /** Closes every connection (close_notify to each). */
  close(): void {
    for (const conn of [...this.connections.values()]) conn.close();
  }

  private create(address: string, port: number): DtlsConnection {
    const k = key(address, port);
    const { cookieJar: _jar, maxConnections: _max, remoteFingerprintsFor, ...rest } = this.options;
    const fingerprints = remoteFingerprintsFor?.(address, port) ?? rest.remoteFingerprints;
    const sink = this.sink;
    const conn: DtlsConnection = new DtlsConnection(
      { ...rest, remoteFingerprints: fingerprints, role: 'server' },
      {
        send: (d) => sink.send(d, address, port),
        connected: () => sink.connected?.(conn, address, port),
        data: (b) => sink.data?.(conn, b, address, port),
        closed: (reason) => {
          if (this.connections.get(k) === conn) this.connections.delete(k);
          sink.closed?.(conn, reason, address, port);
        },
      },
    );
    this.connections.set(k, conn);
    sink.accepted?.(conn, address, port);
    return conn;
  }
}

function key(address: string, port: number): string {
  return `${address}|${port}`;
}

interface HelloHead {
  recordSeq: number;
  messageSeq: number;
  /** version ‖ random ‖ session_id (with its length): what the cookie binds. */
  prefix: Buffer;
  cookie: Buffer;
}

/** The first fragment (offset 0) of a ClientHello in an epoch 0 record, read without state. */
function firstClientHello(datagram: Buffer): HelloHead | undefined {
  for (const record of readRecords(datagram)) {
    if (record.type !== ContentType.handshake || record.epoch !== 0) continue;
    const fragments = readHandshakeFragments(record.fragment);
    if (fragments === undefined) return undefined;
    for (const f of fragments) {
      if (f.msgType !== HandshakeType.clientHello || f.fragmentOffset !== 0) continue;
      const b = f.body;
      if (b.length < 35) return undefined;
      const sidEnd = 35 + b[34]!;
      if (b[34]! > 32 || b.length < sidEnd + 1) return undefined;
      const cookieEnd = sidEnd + 1 + b[sidEnd]!;
      if (b.length < cookieEnd) return undefined;
      return {
        recordSeq: record.sequenceNumber,
        messageSeq: f.messageSeq,
        prefix: b.subarray(0, sidEnd),
        cookie: b.subarray(sidEnd + 1, cookieEnd),
      };
    }
  }
  return undefined;
}
