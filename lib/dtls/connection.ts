/**
 * One DTLS 1.2 connection, sans-IO (DESIGN.md): it is fed datagrams and the time, and says
 * what to send through its sink; it opens no socket and reads no clock. The record layer
 * lives here (epochs, sequence numbers, replay windows, AEAD protection, datagram packing);
 * the handshake logic lives in client-handshake.ts / server-handshake.ts.
 *
 *   const conn = new DtlsConnection({ role: 'client', certificate, remoteFingerprints }, {
 *     send: (d) => socket.send(d, port, host),
 *     data: (b) => …, connected: () => …, closed: (why) => …,
 *   });
 *   conn.start(Date.now());
 *   socket.on('message', (d) => conn.receive(d, Date.now()));
 *   // and call conn.handleTimeout(Date.now()) at conn.nextTimeout()
 *
 * Bad input never throws: records that fail to parse, authenticate or fit the state are
 * dropped (counted in `drops`), and protocol violations end the connection with an alert.
 */
import { ClientHandshake } from './client-handshake.js';
import {
  AlertDescription,
  AlertLevel,
  ContentType,
  DTLS1_2,
  HANDSHAKE_HEADER_LENGTH,
  HandshakeType,
  RECORD_HEADER_LENGTH,
} from './constants.js';
import { DtlsError, DtlsErrorCode } from './errors.js';
import { type FlightMessage, RetransmitTimer } from './flight.js';
import { fragmentHandshake, readHandshakeFragments } from './handshake.js';
import type { HandshakeDriver, HandshakeHost, SessionKeys } from './handshake-common.js';
import { exportKeyingMaterial as exportMaterial, keyBlock } from './key-schedule.js';
import { decodeAlert, encodeAlert } from './messages/alert.js';
import { encodeChangeCipherSpec, isChangeCipherSpec } from './messages/change-cipher-spec.js';
import { type DtlsOptions, type ResolvedDtlsOptions, resolveDtlsOptions } from './options.js';
import { HandshakeReassembler } from './reassembler.js';
import { type DtlsRecord, readRecord, writeRecordHeader } from './record.js';
import { RecordProtection } from './record-protection.js';
import { RecordReplayWindow } from './record-replay.js';
import { ServerHandshake } from './server-handshake.js';

export type DtlsState = 'new' | 'connecting' | 'connected' | 'closed' | 'failed';

export interface DtlsCloseReason {
  /** The alert received (or sent, when we failed the connection). */
  alert?: number;
  /** A DtlsErrorCode when the connection failed; absent for an orderly close_notify. */
  error?: string;
  /** Human-readable detail. */
  message?: string;
  /** True when the peer ended the connection (its alert), false when we did. */
  remote?: boolean;
}

export interface DtlsSink {
  /** A datagram to send to the peer (at most `mtu` bytes, except oversized app data). */
  send(datagram: Buffer): void;
  /** Application data from the peer (a fresh buffer owned by the callee). */
  data?(b: Buffer): void;
  /** The handshake completed and was authenticated. */
  connected?(): void;
  /** The connection is over (once). */
  closed?(reason: DtlsCloseReason): void;
}

/** Largest plaintext in one record (RFC 5246 §6.2.1). */
const MAX_PLAINTEXT = 16384;
/** Records of the next epoch kept while its ChangeCipherSpec is missing (reordering). */
const MAX_FUTURE_RECORDS = 16;

interface ReadState {
  window: RecordReplayWindow;
  protection: RecordProtection | undefined;
}

interface WriteState {
  seq: number;
  protection: RecordProtection | undefined;
}

export class DtlsConnection implements HandshakeHost {
  readonly options: ResolvedDtlsOptions;
  /** Records dropped, by reason (a stable kebab-case code). */
  readonly drops = new Map<string, number>();
  /** Records dropped, all reasons: the sum of `drops`, kept as they are counted. */
  dropped = 0;
  private readonly sink: DtlsSink;
  private readonly handshake: HandshakeDriver;
  private reassembler: HandshakeReassembler;
  private readonly timer: RetransmitTimer;
  private currentState: DtlsState = 'new';
  private lastFlight: FlightMessage[] | undefined;
  private lastFlightAt = Number.NEGATIVE_INFINITY;
  private writeEpoch = 0;
  private readonly writes: (WriteState | undefined)[] = [{ seq: 0, protection: undefined }];
  private currentReadEpoch = 0;
  private readonly reads: (ReadState | undefined)[] = [
    { window: new RecordReplayWindow(), protection: undefined },
  ];
  private pendingRead: RecordProtection | undefined;
  private future: DtlsRecord[] = [];
  private handshakeStarted = false;
  private closeSent = false;

  constructor(options: DtlsOptions, sink: DtlsSink) {
    this.options = resolveDtlsOptions(options);
    if (sink === null || typeof sink !== 'object' || typeof sink.send !== 'function') {
      throw new TypeError('sink.send must be a function');
    }
    this.sink = sink;
    this.reassembler = new HandshakeReassembler({
      maxMessageLength: this.options.maxHandshakeMessageLength,
    });
    this.timer = new RetransmitTimer(
      this.options.initialRetransmitMs,
      this.options.maxRetransmitMs,
      this.options.maxRetransmits,
    );
    this.handshake =
      this.options.role === 'client' ? new ClientHandshake(this) : new ServerHandshake(this);
  }

  get state(): DtlsState {
    return this.currentState;
  }

  get role(): 'client' | 'server' {
    return this.options.role;
  }

  /** The message that starts a renegotiation when the peer sends it. */
  private get renegotiationStart(): number {
    return this.options.role === 'server' ? HandshakeType.clientHello : HandshakeType.helloRequest;
  }

  get readEpoch(): number {
    return this.currentReadEpoch;
  }

  /** The negotiated SRTP protection profile (use_srtp), once connected. */
  get srtpProfile(): number | undefined {
    return this.currentState === 'connected' ? this.handshake.srtpProfile : undefined;
  }

  /** The peer's certificate (DER), once received. */
  get remoteCertificate(): Buffer | undefined {
    return this.handshake.remoteCertificate;
  }

  /** The negotiated cipher suite number, once connected. */
  get cipherSuite(): number | undefined {
    return this.handshake.keys?.suite.id;
  }

  /** Client: sends the first ClientHello. Server: only marks the connection as started. */
  start(now: number): void {
    if (this.currentState !== 'new') return;
    this.currentState = 'connecting';
    this.handshakeStarted = this.options.role === 'client';
    this.guard(() => this.handshake.start(now));
  }

  /** Feeds one datagram received from the peer. Never throws on its content. */
  receive(datagram: Buffer, now: number): void {
    if (this.currentState === 'closed' || this.currentState === 'failed') return;
    if (this.currentState === 'new') this.start(now);
    if (datagram.length === 0 || datagram[0]! < 20 || datagram[0]! > 63) {
      this.drop('not-dtls');
      return;
    }
    {
      let sawOld = false;
      // The rest of a datagram from its first record that fails to parse is discarded
      // (RFC 6347 §4.1.2.7) and counted, so DTLS-range junk shows in `drops`.
      let offset = 0;
      while (offset < datagram.length) {
        const r = readRecord(datagram, offset);
        if (!r) {
          this.drop('malformed-record');
          break;
        }
        if (this.isOver()) return;
        if (this.receiveRecord(r.record, now)) sawOld = true;
        offset = r.next;
      }
      if (sawOld && !this.isOver()) this.retransmitOnDemand(now);
    }
  }

  /** Call at (or after) `nextTimeout()`: retransmits the last flight or gives up. */
  handleTimeout(now: number): void {
    if (this.isOver()) return;
    const action = this.timer.poll(now);
    if (action === 'retransmit' && this.lastFlight !== undefined) {
      this.transmit(this.lastFlight, now);
    } else if (action === 'give-up') {
      this.fail(
        new DtlsError(
          DtlsErrorCode.handshakeTimeout,
          `no answer after ${this.options.maxRetransmits} retransmissions`,
        ),
        false,
      );
    }
  }

  /** When `handleTimeout` should be called next (ms, the caller's clock), if ever. */
  nextTimeout(): number | undefined {
    return this.isOver() ? undefined : this.timer.nextTimeout;
  }

  /**
   * Sends application data as one record (DTLS never splits a record across datagrams: keep
   * it under `mtu` minus 13 header and up to 24 AEAD bytes to avoid IP fragmentation, as SCTP
   * does). Throws DtlsError DTLS_ERR_NOT_CONNECTED before the handshake ends or after close.
   */
  send(appData: Buffer): void {
    if (this.currentState !== 'connected') {
      throw new DtlsError(DtlsErrorCode.notConnected, `cannot send in state ${this.currentState}`);
    }
    if (!Buffer.isBuffer(appData) || appData.length > MAX_PLAINTEXT) {
      throw new TypeError(`application data must be a Buffer of at most ${MAX_PLAINTEXT} bytes`);
    }
    this.sink.send(this.sealRecord(ContentType.applicationData, this.writeEpoch, appData));
  }

  /** Sends close_notify and closes. Idempotent. */
  close(): void {
    if (this.isOver()) return;
    if (this.currentState !== 'new') this.sendCloseNotify();
    this.end('closed', {});
  }

  /** RFC 5705 keying material (e.g. 'EXTRACTOR-dtls_srtp', RFC 5764 §4.2). */
  exportKeyingMaterial(label: string, length: number, context?: Buffer): Buffer {
    const keys = this.handshake.keys;
    if (keys === undefined) {
      throw new DtlsError(DtlsErrorCode.notConnected, 'keying material exists once connected');
    }
    return exportMaterial(
      keys.suite.hash,
      keys.master,
      label,
      keys.clientRandom,
      keys.serverRandom,
      length,
      context,
    );
  }

  // --- HandshakeHost -------------------------------------------------------------------

  sendFlight(messages: FlightMessage[], expectsReply: boolean, now: number): void {
    this.lastFlight = messages;
    this.transmit(messages, now);
    if (expectsReply) this.timer.start(now);
    else this.timer.stop();
  }

  installKeys(keys: SessionKeys): void {
    const kb = keyBlock(keys.suite, keys.master, keys.clientRandom, keys.serverRandom);
    const client = new RecordProtection(keys.suite, kb.clientWriteKey, kb.clientWriteIv);
    const server = new RecordProtection(keys.suite, kb.serverWriteKey, kb.serverWriteIv);
    const isClient = this.options.role === 'client';
    this.writes[1] = { seq: 0, protection: isClient ? client : server };
    this.pendingRead = isClient ? server : client;
  }

  complete(_now: number): void {
    this.timer.stop();
    // The client's last flight is answered by the server's Finished: nothing to repeat. The
    // server keeps flight 6 for a client that repeats flight 5 (RFC 6347 §4.2.4).
    if (this.options.role === 'client') this.lastFlight = undefined;
    this.currentState = 'connected';
    try {
      this.sink.connected?.();
    } catch {
      // a throwing callback must not break the record layer
    }
  }

  sendWarning(description: number): void {
    this.sendAlert(AlertLevel.warning, description);
  }

  restartEpoch0(): void {
    this.reads[0]!.window.reset();
  }

  // --- record layer ----------------------------------------------------------------------

  /** Returns true when the record held an old (retransmitted) handshake fragment. */
  private receiveRecord(record: DtlsRecord, now: number): boolean {
    const epoch = record.epoch;
    const rs = this.reads[epoch];
    if (rs === undefined) {
      if (epoch === this.currentReadEpoch + 1 && this.future.length < MAX_FUTURE_RECORDS) {
        // Finished often overtakes its ChangeCipherSpec: keep it until the epoch starts.
        this.future.push({ ...record, fragment: Buffer.from(record.fragment) });
      } else {
        this.drop('unknown-epoch');
      }
      return false;
    }
    // Epoch 0 is unauthenticated: a forged sequence number would move the window past the
    // real records, so only protected epochs use it (the reassembler drops repeated messages).
    if (rs.protection !== undefined && !rs.window.check(record.sequenceNumber)) {
      this.drop('replay');
      return false;
    }
    let plaintext = record.fragment;
    if (rs.protection !== undefined) {
      const opened = rs.protection.open(
        record.type,
        record.version,
        epoch,
        record.sequenceNumber,
        record.fragment,
      );
      if (opened === undefined) {
        this.drop('bad-record-mac');
        return false;
      }
      plaintext = opened;
    }
    if (plaintext.length > MAX_PLAINTEXT) {
      this.drop('record-overflow');
      return false;
    }
    if (rs.protection !== undefined) rs.window.commit(record.sequenceNumber);
    switch (record.type) {
      case ContentType.handshake:
        return this.receiveHandshake(record, plaintext, now);
      case ContentType.changeCipherSpec:
        this.receiveChangeCipherSpec(record, plaintext, now);
        return false;
      case ContentType.alert:
        this.receiveAlert(epoch, plaintext);
        return false;
      case ContentType.applicationData:
        this.receiveApplicationData(epoch, plaintext);
        return false;
      default:
        this.drop('unknown-content-type');
        return false;
    }
  }

  private receiveHandshake(record: DtlsRecord, plaintext: Buffer, now: number): boolean {
    const fragments = readHandshakeFragments(plaintext);
    if (fragments === undefined) {
      // Unauthenticated garbage (epoch 0) must not end a handshake; an authenticated one must.
      if (record.epoch === 0) this.drop('malformed-handshake');
      else
        this.protocolError(DtlsErrorCode.decodeError, AlertDescription.decodeError, 'bad fragment');
      return false;
    }
    const done = this.currentState === 'connected';
    let sawOld = false;
    for (const f of fragments) {
      if (done && record.epoch > 0 && f.msgType === this.renegotiationStart) {
        // RFC 5746 §4.2/§4.4: WebRTC never renegotiates; refuse with a warning and carry on.
        // (A rehandshake restarts message_seq at 0, so it must not pass for a retransmission.)
        if (f.fragmentOffset === 0) this.sendWarning(AlertDescription.noRenegotiation);
        this.drop('renegotiation-refused');
        continue;
      }
      // During the handshake only Finished travels in epoch 1, and never in epoch 0; after
      // it, epoch 0 carries only retransmissions of old messages.
      const isFinished = f.msgType === HandshakeType.finished;
      const misplaced = done
        ? record.epoch === 0 && f.messageSeq >= this.reassembler.nextSeq
        : (record.epoch === 0) === isFinished;
      if (misplaced) {
        this.drop('handshake-wrong-epoch');
        continue;
      }
      if (!this.handshakeStarted && f.msgType === HandshakeType.clientHello) {
        this.beginServerHandshake(f.messageSeq, record.sequenceNumber);
      }
      let result = this.reassembler.add(f);
      if (result === 'invalid' && f.messageSeq === this.reassembler.nextSeq) {
        // The partial message it conflicts with may be a forgery (epoch 0 is unauthenticated)
        // that would block the real one forever: start that message over from this fragment.
        this.reassembler = new HandshakeReassembler({
          maxMessageLength: this.options.maxHandshakeMessageLength,
          nextSeq: this.reassembler.nextSeq,
        });
        result = this.reassembler.add(f);
      }
      if (result === 'old') sawOld = true;
      else if (result !== 'new') this.drop(`fragment-${result}`);
    }
    this.processMessages(now);
    return sawOld;
  }

  /** Server: the hello that starts the handshake fixes message_seq and record numbers. */
  private beginServerHandshake(messageSeq: number, recordSeq: number): void {
    this.handshakeStarted = true;
    if (messageSeq > this.reassembler.nextSeq) this.reassembler.nextSeq = messageSeq;
    // RFC 6347 §4.2.1: a stateless HelloVerifyRequest reused the ClientHello's record number;
    // continuing from the hello's number keeps ours from repeating it.
    const w = this.writes[0]!;
    if (recordSeq > w.seq) w.seq = recordSeq;
  }

  private processMessages(now: number): void {
    for (;;) {
      if (this.isOver()) return;
      const msg = this.reassembler.next();
      if (msg === undefined) return;
      if (!this.guard(() => this.handshake.handle(msg, now))) return;
    }
  }

  private receiveChangeCipherSpec(record: DtlsRecord, plaintext: Buffer, now: number): void {
    if (!isChangeCipherSpec(plaintext)) {
      if (record.epoch === 0) this.drop('malformed-ccs');
      else this.protocolError(DtlsErrorCode.decodeError, AlertDescription.decodeError, 'bad CCS');
      return;
    }
    if (record.epoch !== this.currentReadEpoch || this.currentReadEpoch !== 0) {
      this.drop('stale-ccs'); // a retransmitted CCS after we switched
      return;
    }
    if (this.pendingRead === undefined || !this.handshake.keysReady) {
      this.drop('early-ccs'); // before the key exchange arrived (loss): the peer retransmits
      return;
    }
    this.reads[1] = { window: new RecordReplayWindow(), protection: this.pendingRead };
    this.pendingRead = undefined;
    this.currentReadEpoch = 1;
    const future = this.future;
    this.future = [];
    let sawOld = false;
    for (const r of future) {
      if (this.isOver()) return;
      if (r.epoch === 1 && this.receiveRecord(r, now)) sawOld = true;
    }
    if (sawOld && !this.isOver()) this.retransmitOnDemand(now);
  }

  private receiveAlert(epoch: number, plaintext: Buffer): void {
    if (epoch < this.currentReadEpoch) {
      this.drop('stale-alert'); // unauthenticated once the peer protects its records
      return;
    }
    const alert = decodeAlert(plaintext);
    if (alert === undefined) {
      this.drop('malformed-alert');
      return;
    }
    if (alert.description === AlertDescription.closeNotify) {
      this.sendCloseNotify();
      this.end('closed', { alert: alert.description, remote: true });
      return;
    }
    if (alert.level === AlertLevel.warning) {
      this.drop('warning-alert');
      return;
    }
    this.end('failed', {
      alert: alert.description,
      error: DtlsErrorCode.alertReceived,
      message: `peer sent fatal alert ${alert.description}`,
      remote: true,
    });
  }

  private receiveApplicationData(epoch: number, plaintext: Buffer): void {
    if (epoch === 0 || this.currentState !== 'connected') {
      this.drop('early-application-data');
      return;
    }
    try {
      this.sink.data?.(plaintext);
    } catch {
      // the callee's exception is its own
    }
  }

  /** The peer repeated an old flight: ours was probably lost (RFC 6347 §4.2.4). */
  private retransmitOnDemand(now: number): void {
    if (this.lastFlight === undefined) return;
    const gap = Math.max(1, this.options.initialRetransmitMs >> 2);
    if (now - this.lastFlightAt < gap) return;
    this.transmit(this.lastFlight, now);
  }

  private transmit(messages: readonly FlightMessage[], now: number): void {
    this.lastFlightAt = now;
    const mtu = this.options.mtu;
    let parts: Buffer[] = [];
    let size = 0;
    const push = (record: Buffer): void => {
      if (size + record.length > mtu && parts.length > 0) {
        this.sink.send(parts.length === 1 ? parts[0]! : Buffer.concat(parts, size));
        parts = [];
        size = 0;
      }
      parts.push(record);
      size += record.length;
    };
    for (const m of messages) {
      if (m.kind === 'change-cipher-spec') {
        push(this.sealRecord(ContentType.changeCipherSpec, m.epoch, encodeChangeCipherSpec()));
        if (this.writeEpoch < m.epoch + 1) this.writeEpoch = m.epoch + 1;
        continue;
      }
      const overhead = this.writes[m.epoch]?.protection?.overhead ?? 0;
      const room = mtu - RECORD_HEADER_LENGTH - HANDSHAKE_HEADER_LENGTH - overhead;
      for (const piece of fragmentHandshake(m.msgType, m.messageSeq, m.body, Math.max(room, 64))) {
        push(this.sealRecord(ContentType.handshake, m.epoch, piece));
      }
    }
    if (parts.length > 0)
      this.sink.send(parts.length === 1 ? parts[0]! : Buffer.concat(parts, size));
  }

  private sealRecord(type: number, epoch: number, plaintext: Buffer): Buffer {
    const ws = this.writes[epoch];
    if (ws === undefined) throw new Error(`no write keys for epoch ${epoch}`);
    const seq = ws.seq++;
    const fragment =
      ws.protection === undefined
        ? plaintext
        : ws.protection.seal(type, DTLS1_2, epoch, seq, plaintext);
    const out = Buffer.allocUnsafe(RECORD_HEADER_LENGTH + fragment.length);
    writeRecordHeader(
      out,
      0,
      { type, version: DTLS1_2, epoch, sequenceNumber: seq },
      fragment.length,
    );
    fragment.copy(out, RECORD_HEADER_LENGTH);
    return out;
  }

  private sendAlert(level: number, description: number): void {
    try {
      const record = this.sealRecord(
        ContentType.alert,
        this.writeEpoch,
        encodeAlert({ level, description }),
      );
      this.sink.send(record);
    } catch {
      // sending an alert is best effort
    }
  }

  private sendCloseNotify(): void {
    if (this.closeSent) return;
    this.closeSent = true;
    this.sendAlert(AlertLevel.warning, AlertDescription.closeNotify);
  }

  /** Runs handshake code; a DtlsError it throws fails the connection. False if it did. */
  private guard(fn: () => void): boolean {
    try {
      fn();
      return true;
    } catch (err) {
      if (err instanceof DtlsError) {
        this.fail(err, true);
      } else {
        const e = new DtlsError(
          DtlsErrorCode.internalError,
          err instanceof Error ? err.message : String(err),
          AlertDescription.internalError,
          { cause: err },
        );
        this.fail(e, true);
      }
      return false;
    }
  }

  private protocolError(code: DtlsErrorCode, alert: number, message: string): void {
    this.fail(new DtlsError(code, message, alert), true);
  }

  private fail(err: DtlsError, sendAlert: boolean): void {
    if (this.isOver()) return;
    if (sendAlert && err.alert !== undefined) this.sendAlert(AlertLevel.fatal, err.alert);
    this.end('failed', {
      ...(err.alert === undefined ? {} : { alert: err.alert }),
      error: err.code,
      message: err.message,
      remote: false,
    });
  }

  private end(state: 'closed' | 'failed', reason: DtlsCloseReason): void {
    if (this.isOver()) return;
    this.currentState = state;
    this.timer.stop();
    this.lastFlight = undefined;
    this.future = [];
    try {
      this.sink.closed?.(reason);
    } catch {
      // ignore the callee's exception
    }
  }

  private isOver(): boolean {
    return this.currentState === 'closed' || this.currentState === 'failed';
  }

  private drop(reason: string): void {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1);
    this.dropped++;
  }
}
