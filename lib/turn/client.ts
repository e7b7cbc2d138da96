import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  AttributeType,
  decodeStunMessage,
  encodeChannelNumber,
  StunClass,
  type StunMessage,
  StunMessageBuilder,
  StunMethod,
  type TransportAddress,
  verifyFingerprint,
} from '../stun/index.js';
import {
  channelDataLength,
  isChannelData,
  MAX_CHANNEL,
  MIN_CHANNEL,
  writeChannelDataHeader,
} from './channel-data.js';
import { LongTermAuth, type SigningKey } from './client-auth.js';
import { ChannelTable } from './client-channels.js';
import { TurnClientError, TurnClientErrorCode } from './client-error.js';
import {
  badResponse,
  checkAllocateOptions,
  checkUint32,
  closedError,
  copyRequestAttributes,
  errorResponseError,
  ignoredForMissingAlgorithms,
  integrityAcceptable,
  methodName,
  readAllocation,
  readError,
  readLifetime,
  readMappedAddress,
  readXorAddress,
  toTransportAddress,
  writeAllocate,
} from './client-messages.js';
import {
  type AllocateOptions,
  type Allocation,
  type TurnClientEvents,
  type TurnClientOptions,
  validateOptions,
} from './client-options.js';
import { type DueRefreshes, RefreshSchedule, RefreshTimer } from './client-refresh.js';
import { DEFAULT_TRANSACTION_TIMING, TransactionTable } from './client-transaction.js';
import { type ClientTransport, connectTransport } from './client-transport.js';

export { TurnClientError, TurnClientErrorCode } from './client-error.js';
export type {
  AllocateOptions,
  Allocation,
  TurnClientEvents,
  TurnClientOptions,
} from './client-options.js';
export type { AutoRefreshOptions } from './client-refresh.js';

type AttributeWriter = (b: StunMessageBuilder) => void;

/**
 * TURN client (RFC 8656) over UDP, TCP or TLS: long-term credentials, RFC 8489
 * retransmissions, allocations, permissions, channels and relayed data. Used by tests, the
 * benchmark's load generator and the ICE agent.
 */
export class TurnClient extends EventEmitter<TurnClientEvents> {
  private readonly auth: LongTermAuth;
  private readonly channels = new ChannelTable();
  private readonly transactions: TransactionTable<StunMessage, SigningKey | undefined>;
  private readonly transport: ClientTransport;
  private readonly indicationId = randomBytes(12);
  private current: Allocation | undefined;
  private closing: Promise<void> | undefined;
  private isClosed = false;
  /** Set with `autoRefresh`. */
  private readonly refreshes: RefreshTimer | undefined;

  private constructor(
    private readonly options: TurnClientOptions,
    transport: ClientTransport,
    schedule: RefreshSchedule | undefined,
  ) {
    super();
    this.auth = new LongTermAuth(options.username, options.password, options.passwordAlgorithms);
    this.transport = transport;
    this.refreshes = schedule && new RefreshTimer(schedule, (due) => this.runRefreshes(due));
    this.transactions = new TransactionTable((request) => this.transport.send(request), {
      reliable: this.transport.reliable,
      rtoMs: options.rtoMs ?? DEFAULT_TRANSACTION_TIMING.rtoMs,
      rc: options.rc ?? DEFAULT_TRANSACTION_TIMING.rc,
      rm: options.rm ?? DEFAULT_TRANSACTION_TIMING.rm,
      timeoutMs: options.timeoutMs ?? DEFAULT_TRANSACTION_TIMING.timeoutMs,
    });
  }

  /** Opens the transport to `o.server`. Rejects with `RTCD_TURN_CLIENT_CONNECT` on failure. */
  static async connect(o: TurnClientOptions): Promise<TurnClient> {
    validateOptions(o);
    const auto = o.autoRefresh;
    // Built first: it validates its lifetimes before a socket exists.
    const schedule = auto ? new RefreshSchedule(auto === true ? {} : auto) : undefined;
    let client: TurnClient | undefined;
    const transport = await connectTransport(
      {
        kind: o.transport ?? 'udp',
        host: o.server.host,
        port: o.server.port,
        ...(o.localAddress === undefined ? {} : { localAddress: o.localAddress }),
        ...(o.localPort === undefined ? {} : { localPort: o.localPort }),
        ...(o.tls === undefined ? {} : { tls: o.tls }),
        connectTimeoutMs: o.connectTimeoutMs ?? 10_000,
      },
      {
        onFrame: (frame) => client?.onFrame(frame),
        onError: (err) => client?.onTransportError(err),
        onClose: () => client?.shutdown(),
      },
    );
    client = new TurnClient(o, transport, schedule);
    return client;
  }

  /** Transport to the server. */
  get transportKind(): 'udp' | 'tcp' | 'tls' {
    return this.transport.kind;
  }

  /** The local end of the client's 5-tuple (what the server sees before any NAT). */
  get local(): TransportAddress {
    return this.transport.local;
  }

  /** True once closed: requests reject with `RTCD_TURN_CLIENT_CLOSED`, `send` drops. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** The current allocation, if `allocate` succeeded and it was not deleted since. */
  get allocation(): Allocation | undefined {
    return this.current;
  }

  /** Binding request (RFC 8489): the server-reflexive address (XOR-MAPPED-ADDRESS). */
  async binding(): Promise<TransportAddress> {
    const m = await this.transact(StunMethod.binding, () => {}, false);
    const mapped = readXorAddress(m, AttributeType.XOR_MAPPED_ADDRESS) ?? readMappedAddress(m);
    if (mapped === undefined) throw badResponse('binding', 'XOR-MAPPED-ADDRESS');
    return mapped;
  }

  /** Allocate request (RFC 8656 §7): a UDP relayed transport address on the server. */
  async allocate(o: AllocateOptions = {}): Promise<Allocation> {
    checkAllocateOptions(o);
    const m = await this.transact(StunMethod.allocate, (b) => writeAllocate(b, o));
    const allocation = readAllocation(m);
    this.current = allocation;
    this.refreshes?.update((s, now) => s.allocation(allocation.lifetime, now));
    return allocation;
  }

  /**
   * Refresh request (RFC 8656 §8): resolves with the granted lifetime. Lifetime 0 deletes
   * the allocation, its permissions and channels.
   */
  async refresh(lifetime: number): Promise<number> {
    checkUint32('lifetime', lifetime);
    const m = await this.transact(StunMethod.refresh, (b) => {
      b.addUint32(AttributeType.LIFETIME, lifetime);
    });
    const granted = readLifetime(m) ?? lifetime;
    if (lifetime === 0 || granted === 0) this.forgetAllocation();
    else if (this.current !== undefined) {
      this.current.lifetime = granted;
      this.refreshes?.update((s, now) => s.allocation(granted, now));
    }
    return granted;
  }

  /** CreatePermission (RFC 8656 §9) for the IP addresses of `peers` (ports are ignored). */
  async createPermission(peers: ReadonlyArray<string | TransportAddress>): Promise<void> {
    if (peers.length === 0) throw new TypeError('createPermission needs at least one peer');
    const addresses = peers.map((p) => toTransportAddress(p, 0));
    await this.transact(StunMethod.createPermission, (b) => {
      for (const a of addresses) b.addXorAddress(AttributeType.XOR_PEER_ADDRESS, a);
    });
    this.refreshes?.update((s, now) => {
      for (const a of addresses) s.permission(a.address, now);
    });
  }

  /**
   * ChannelBind (RFC 8656 §11): binds `channel` (default: the peer's current channel, else
   * the lowest free number from 0x4000) to `peer`; binding again refreshes. Resolves with the
   * channel number; afterwards `send` to `peer` uses ChannelData.
   */
  async channelBind(peer: TransportAddress, channel?: number): Promise<number> {
    const address = toTransportAddress(peer, peer.port);
    if (
      channel !== undefined &&
      (!Number.isInteger(channel) || channel < MIN_CHANNEL || channel > MAX_CHANNEL)
    ) {
      throw new TypeError(`channel must be 0x4000..0x4FFF, got ${channel}`);
    }
    const number = channel ?? this.channels.findReserved(address) ?? this.channels.lowestFree();
    if (number === undefined) {
      throw new TurnClientError(TurnClientErrorCode.noChannel, 'every channel number is in use');
    }
    const existed = this.channels.peerOf(number) !== undefined;
    // Reserve before sending so ChannelData that races the response is still delivered.
    if (!existed) this.channels.reserve(number, address);
    try {
      await this.transact(StunMethod.channelBind, (b) => {
        b.add(AttributeType.CHANNEL_NUMBER, encodeChannelNumber(number));
        b.addXorAddress(AttributeType.XOR_PEER_ADDRESS, address);
      });
    } catch (err) {
      if (!existed) this.channels.release(number);
      throw err;
    }
    this.channels.confirm(number, address);
    this.refreshes?.update((s, now) => s.channel(number, address, now));
    return number;
  }

  /** The confirmed channel bound to `peer`, if any. */
  channelOf(peer: TransportAddress): number | undefined {
    return this.channels.numberOf(peer);
  }

  /**
   * Relays `data` to `peer`: ChannelData if a channel is bound to it, else a Send indication
   * (RFC 8656 §10, §12). Fire and forget; dropped silently once the client is closed. The
   * caller must not change `data` until this returns.
   */
  send(peer: TransportAddress, data: Uint8Array): void {
    if (this.isClosed) return;
    const channel = this.channels.numberOf(peer);
    if (channel !== undefined) {
      const header = Buffer.allocUnsafe(4);
      writeChannelDataHeader(header, 0, channel, data.length);
      this.transport.sendChannelData(header, data);
      return;
    }
    // Indications are not matched to anything: a counter in a random id is unique enough.
    const id = this.indicationId;
    id.writeUInt32BE((id.readUInt32BE(8) + 1) >>> 0, 8);
    const b = new StunMessageBuilder(StunClass.indication, StunMethod.send, id);
    b.addXorAddress(AttributeType.XOR_PEER_ADDRESS, peer).add(AttributeType.DATA, data);
    this.transport.send(b.toBuffer());
  }

  /**
   * Sends a request built by the caller, adding credentials, SOFTWARE and FINGERPRINT and
   * retransmitting; resolves with the success response, rejects on an error response. The
   * builder's attributes are copied into each attempt (a new transaction per 401/438 retry).
   */
  async request(b: StunMessageBuilder): Promise<StunMessage> {
    const decoded = decodeStunMessage(b.toBuffer());
    if (!decoded.ok || decoded.message.messageClass !== StunClass.request) {
      throw new TypeError('request() takes a builder of a STUN request');
    }
    const base = decoded.message;
    return this.transact(base.method, (nb) => copyRequestAttributes(base, nb));
  }

  /** Writes `buf` to the socket as is (tests, fuzzers): no framing, no retransmission. */
  sendRaw(buf: Uint8Array): void {
    if (this.isClosed) throw closedError();
    this.transport.send(buf);
  }

  /**
   * Deletes the allocation (Refresh, lifetime 0, waiting at most `closeTimeoutMs`), then
   * closes the socket. Idempotent; pending requests reject with `RTCD_TURN_CLIENT_CLOSED`.
   */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.refreshes?.stop();
    if (this.current !== undefined && !this.isClosed) {
      const limit = this.options.closeTimeoutMs ?? 2000;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.refresh(0).catch(() => {}),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, limit);
        }),
      ]);
      clearTimeout(timer);
    }
    this.shutdown();
  }

  /** Runs once when the client closes or the connection ends. */
  private shutdown(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.refreshes?.stop();
    this.transport.close();
    this.transactions.rejectAll(closedError());
    this.forgetAllocation();
    try {
      this.emit('close');
    } catch (err) {
      this.reportError(err);
    }
  }

  private forgetAllocation(): void {
    this.current = undefined;
    this.channels.clear();
    this.refreshes?.update((s) => s.clear());
  }

  private runRefreshes(due: DueRefreshes): void {
    const report = (err: unknown): void => {
      if (!this.isClosed && this.closing === undefined) this.reportError(err);
    };
    if (due.allocation && this.current !== undefined) {
      this.refresh(this.current.lifetime).catch(report);
    }
    if (due.permissions.length > 0) this.createPermission(due.permissions).catch(report);
    for (const [channel, peer] of due.channels) this.channelBind(peer, channel).catch(report);
  }

  /**
   * One request with the long-term credential dance (RFC 8489 §9.2): signed up front once a
   * challenge taught realm and nonce (`signUpFront`: Binding goes unsigned unless challenged);
   * a 401 is retried once with credentials, a 438 once with the new nonce.
   */
  private async transact(
    method: number,
    write: AttributeWriter,
    signUpFront = true,
  ): Promise<StunMessage> {
    let challenged = false;
    let stale = false;
    for (;;) {
      if (this.isClosed) throw closedError();
      const id = randomBytes(12);
      const b = new StunMessageBuilder(StunClass.request, method, id);
      write(b);
      if (this.options.software) b.addString(AttributeType.SOFTWARE, this.options.software);
      const signing = signUpFront || challenged ? this.auth.sign(b) : undefined;
      b.addFingerprint();
      const response = await this.transactions.start(id, b.toBuffer(), signing);
      if (response.messageClass === StunClass.success) return response;
      const error = readError(response);
      const retry = (error.code === 401 && !challenged) || (error.code === 438 && !stale);
      const learned = retry ? this.auth.learn(response) : undefined;
      if (learned === 'ok') {
        if (error.code === 401) challenged = true;
        else stale = true;
        continue;
      }
      throw errorResponseError(methodName(method), error, this.auth.hasCredentials, learned);
    }
  }

  private onFrame(frame: Buffer): void {
    if (this.isClosed) return;
    if (isChannelData(frame)) {
      this.onChannelData(frame);
      return;
    }
    const decoded = decodeStunMessage(frame);
    if (!decoded.ok) return; // not for us or mangled: nothing to answer
    const m = decoded.message;
    if (m.messageClass === StunClass.success || m.messageClass === StunClass.error) {
      this.onResponse(m);
    } else if (m.messageClass === StunClass.indication && m.method === StunMethod.data) {
      this.onDataIndication(m);
    }
  }

  private onChannelData(frame: Buffer): void {
    const length = channelDataLength(frame, 0)!;
    if (4 + length > frame.length) return;
    const peer = this.channels.peerOf(frame.readUInt16BE(0));
    if (peer === undefined) return;
    this.deliver(peer, frame.subarray(4, 4 + length));
  }

  private onDataIndication(m: StunMessage): void {
    const peer = readXorAddress(m, AttributeType.XOR_PEER_ADDRESS);
    const data = m.value(AttributeType.DATA);
    if (peer === undefined || data === undefined) return;
    this.deliver(peer, data);
  }

  private onResponse(m: StunMessage): void {
    const id = m.transactionId;
    if (!this.transactions.has(id)) return; // late retransmission or stray
    if (m.has(AttributeType.FINGERPRINT) && !verifyFingerprint(m)) return;
    const signing = this.transactions.context(id);
    if (ignoredForMissingAlgorithms(m)) return;
    if (signing !== undefined && !integrityAcceptable(m, signing)) {
      // RFC 8489 §9.2.5: over UDP treat it as never received (the real response may
      // follow); over a reliable transport the transaction fails.
      if (this.transport.reliable) {
        this.transactions.reject(
          id,
          new TurnClientError(
            TurnClientErrorCode.integrity,
            `${methodName(m.method)}: response failed the MESSAGE-INTEGRITY check`,
          ),
        );
      }
      return;
    }
    this.transactions.settle(id, m);
  }

  private onTransportError(err: Error): void {
    this.reportError(
      new TurnClientError(TurnClientErrorCode.transport, err.message, { cause: err }),
    );
  }

  /** A throwing 'data' listener must not break the socket handler: reported as 'error'. */
  private deliver(peer: TransportAddress, data: Buffer): void {
    try {
      this.emit('data', peer, data);
    } catch (err) {
      this.reportError(err);
    }
  }

  /** 'error' is only emitted when listened to: an unhandled one would crash the process. */
  private reportError(err: unknown): void {
    if (this.listenerCount('error') === 0) return;
    this.emit('error', err instanceof Error ? err : new Error(String(err)));
  }
}
