/** The events, states, close reasons and counters of a WebRtcEndpoint. */
import type { DtlsCloseReason } from '../dtls/connection.js';
import type { SrtpDropReason } from './srtp-transport.js';

/**
 * `new`: waiting for the peer's nomination. `connecting`: ICE is connected, DTLS is shaking
 * hands. `connected`: SRTP is keyed; media flows. `failed` / `closed`: over (see the reason).
 */
export type WebRtcState = 'new' | 'connecting' | 'connected' | 'failed' | 'closed';

/** Why the endpoint ended (the `closed` event, and `closeReason`). */
export interface WebRtcCloseReason {
  /**
   * - `closed`: `close()` was called.
   * - `consent-lost`: no valid check for the consent timeout (RFC 7675 §5.1).
   * - `ice-closed`: the ICE session (or its mux) was closed.
   * - `dtls-closed`: the peer sent close_notify.
   * - `dtls-failed`: the handshake failed (`dtls` says how: fingerprint mismatch, alert…).
   * - `no-srtp-profile`: DTLS completed without a use_srtp profile we implement.
   * - `connect-timeout`: not connected within `connectTimeoutMs`.
   */
  reason:
    | 'closed'
    | 'consent-lost'
    | 'ice-closed'
    | 'dtls-closed'
    | 'dtls-failed'
    | 'no-srtp-profile'
    | 'connect-timeout';
  dtls?: DtlsCloseReason;
}

/** Why a packet from the peer was dropped. */
export type WebRtcDropReason =
  | SrtpDropReason
  /** SRTP before the DTLS handshake keyed SRTP (or after it ended). */
  | 'srtp-not-keyed'
  /** DTLS before the peer's parameters (and so its fingerprint) were known. */
  | 'dtls-no-remote'
  /** A class other than DTLS and RTP/RTCP (the mux passes only these, so: never). */
  | 'unknown-class'
  /** DTLS application data with no `data` listener (SCTP, when nobody runs it). */
  | 'dtls-application-data';

/** The packet counters of one endpoint (`WebRtcEndpoint.counters`), without the drops. */
export type WebRtcEndpointCounters = Omit<WebRtcEndpointStats, 'drops' | 'dtlsDrops'>;

/** Counters of one endpoint. Bytes are counted on the wire (protected). */
export interface WebRtcEndpointStats {
  rtpPacketsReceived: number;
  rtpBytesReceived: number;
  rtcpPacketsReceived: number;
  rtcpBytesReceived: number;
  rtpPacketsSent: number;
  rtpBytesSent: number;
  rtcpPacketsSent: number;
  rtcpBytesSent: number;
  /** DTLS datagrams handed to the DTLS connection (its own drops are in `dtlsDrops`). */
  dtlsPacketsReceived: number;
  /** Packets `sendRtp`/`sendRtcp` refused (not connected, or SRTP refused them). */
  sendFailures: number;
  /** Dropped packets from the peer by reason (only reasons seen so far are present). */
  drops: Partial<Record<WebRtcDropReason, number>>;
  /** DTLS records the connection dropped, by its reason codes. */
  dtlsDrops: Record<string, number>;
}

export interface WebRtcEndpointEvents {
  /** Every state change. */
  state: [state: WebRtcState];
  /** SRTP is keyed: `sendRtp` works and `rtp`/`rtcp` events start. */
  connected: [];
  /**
   * One decrypted RTP packet. The buffer is a view of the received datagram, decrypted in
   * place; it is the listener's to keep (the endpoint does not reuse it).
   */
  rtp: [packet: Buffer];
  /**
   * DTLS application data from the peer (what SCTP for data channels rides on, RFC 8261).
   * Without a listener it is dropped and counted as `dtls-application-data`.
   */
  data: [payload: Buffer];
  /** One decrypted (compound) RTCP packet, as `rtp`. */
  rtcp: [packet: Buffer];
  /** Once, on `failed` or `closed`. */
  closed: [reason: WebRtcCloseReason];
}
