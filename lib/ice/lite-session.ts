import { EventEmitter } from 'node:events';
import type { TransportAddress } from '../stun/transport-address.js';
import type { Logger } from '../util/logger.js';
import type { PacketClass } from './demux.js';
import type { LiteEntry, LiteRemote, LiteSessionState } from './lite-core.js';

/**
 * Events of one ICE-lite session. Listeners that throw are caught and logged: they cannot
 * break the mux that dispatches to every session.
 */
export interface IceLiteSessionEvents {
  /** The session became connected (first nomination, or a nomination after consent loss). */
  connected: [remote: TransportAddress];
  /** The selected remote changed (also emitted with `connected`). */
  selected: [remote: TransportAddress, transport: 'udp' | 'tcp'];
  /**
   * A non-STUN packet from the selected remote: DTLS, SRTP/SRTCP (class `rtp`), or anything
   * else that passed the RFC 7983 first-byte demultiplexing. The buffer is the received
   * datagram (or TCP frame); it is not reused by the mux.
   */
  data: [packet: Buffer, packetClass: PacketClass];
  /** Consent expired (RFC 7675) or the ICE-TCP connection closed; sending stops. */
  disconnected: [];
  /** `close()` was called (or the mux closed). Emitted once. */
  closed: [];
}

/** What a session needs from the mux that owns it. */
export interface LiteSessionHost {
  /**
   * Sends `packet` to `remote`, the selected remote of a session's record (the record the
   * mux registered, so the remote is one the mux made: the session hands it back as it is
   * instead of the mux looking the session up again per datagram).
   */
  sendTo(remote: LiteRemote, packet: Uint8Array): void;
  /** A buffer of `size` bytes for one datagram to a remote over `transport` (see `datagram`). */
  datagram(size: number, transport: 'udp' | 'tcp' | undefined): Buffer;
  release(session: IceLiteSession): void;
  readonly logger: Logger;
}

/** Packet and byte counts of one session. */
export interface LiteSessionStats {
  packetsReceived: number;
  bytesReceived: number;
  packetsSent: number;
  bytesSent: number;
}

/**
 * One peer on an `IceLiteMux` (created by `mux.createSession`). It has local credentials
 * for the SDP (`localUfrag`, `localPwd`, and the mux's `candidates`), becomes `connected`
 * when the peer nominates a pair, and then exchanges the peer's non-STUN packets with it:
 * `send(buf)` and the `data` event. Closing is idempotent.
 */
export class IceLiteSession extends EventEmitter<IceLiteSessionEvents> {
  readonly localUfrag: string;
  readonly localPwd: string;
  remotePwd: string | undefined;
  readonly stats: LiteSessionStats = {
    packetsReceived: 0,
    bytesReceived: 0,
    packetsSent: 0,
    bytesSent: 0,
  };
  readonly #host: LiteSessionHost;
  /** Set by the mux right after construction. */
  #entry: LiteEntry<IceLiteSession> | undefined;

  /** Use `IceLiteMux.createSession`. */
  constructor(host: LiteSessionHost, localUfrag: string, localPwd: string, remotePwd?: string) {
    super();
    this.#host = host;
    this.localUfrag = localUfrag;
    this.localPwd = localPwd;
    this.remotePwd = remotePwd;
  }

  /** @internal the mux links the core's record once registered. */
  attach(entry: LiteEntry<IceLiteSession>): void {
    this.#entry = entry;
  }

  get state(): LiteSessionState {
    return this.#entry?.state ?? 'closed';
  }

  /** The peer's ufrag, if given (checks naming another one are refused). */
  get remoteUfrag(): string | undefined {
    return this.#entry?.remoteUfrag;
  }

  /** The selected remote address (the nominated one), while connected. */
  get remoteAddress(): TransportAddress | undefined {
    const r = this.#entry?.state === 'connected' ? this.#entry.selected : undefined;
    return r === undefined ? undefined : { family: r.family, address: r.address, port: r.port };
  }

  /** The transport of the selected pair, while connected. */
  get transport(): 'udp' | 'tcp' | undefined {
    return this.#entry?.state === 'connected' ? this.#entry.selected?.transport : undefined;
  }

  /** Sets the peer's ufrag/password once its offer or answer arrives. */
  setRemoteCredentials(remoteUfrag: string, remotePwd?: string): void {
    if (this.#entry !== undefined) this.#entry.remoteUfrag = remoteUfrag;
    if (remotePwd !== undefined) this.remotePwd = remotePwd;
  }

  /**
   * Sends one packet (DTLS, SRTP…) to the selected remote. Returns false, sending nothing,
   * unless connected. The buffer must not be modified until the next turn of the event loop.
   */
  send(packet: Uint8Array): boolean {
    const entry = this.#entry;
    const remote = entry?.selected;
    if (remote === undefined || entry?.state !== 'connected') return false;
    this.stats.packetsSent++;
    this.stats.bytesSent += packet.length;
    this.#host.sendTo(remote, packet);
    return true;
  }

  /**
   * A buffer of `size` bytes (not zeroed) to build one datagram in and hand to `send` at once,
   * before asking for another: over UDP it comes from the mux's pool and is reused once the
   * socket has sent it (no allocation per packet); hold it no longer than that.
   */
  datagram(size: number): Buffer {
    return this.#host.datagram(size, this.#entry?.selected?.transport);
  }

  /** Unregisters from the mux (its checks go unanswered) and emits `closed` once. */
  close(): void {
    if (this.#entry === undefined) return;
    this.#entry = undefined;
    this.#host.release(this);
    this.safeEmit('closed');
  }

  /** @internal */
  deliver(packet: Buffer, packetClass: PacketClass): void {
    this.stats.packetsReceived++;
    this.stats.bytesReceived += packet.length;
    // safeEmit's body, without its rest-argument array: this runs once per media packet.
    try {
      this.emit('data', packet, packetClass);
    } catch (err) {
      this.#host.logger.warn(
        { err, event: 'data', ufrag: this.localUfrag },
        'ice-lite listener threw',
      );
    }
  }

  /** @internal emits without letting a listener's exception escape into the mux. */
  safeEmit<K extends keyof IceLiteSessionEvents>(event: K, ...args: IceLiteSessionEvents[K]): void {
    try {
      this.emit(event as keyof IceLiteSessionEvents, ...args);
    } catch (err) {
      this.#host.logger.warn({ err, event, ufrag: this.localUfrag }, 'ice-lite listener threw');
    }
  }
}
