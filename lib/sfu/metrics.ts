/**
 * The SFU's counters: per participant (`ParticipantStats`), summed over a router and the
 * endpoints and mux of a server (`SfuStatsCollector` → `SfuStats`), and served as Prometheus
 * text (`sfuRegistry`, the same prom-client style as `rtcd turn` and `rtcd signal`).
 *
 * The packet paths only bump plain numbers; sums are made when `stats()` or a scrape asks.
 * Counters of participants and endpoints that ended are folded into running totals as they
 * end, so every total only grows.
 */
import { Gauge, Registry } from 'prom-client';
import type { IceLiteCounters } from '../ice/udp-mux.js';
import type { Logger } from '../util/logger.js';
import { totalsCounter } from '../util/totals-counter.js';
import type { WebRtcEndpoint } from '../webrtc/endpoint.js';
import type { Participant } from './participant.js';
import type { Room } from './room.js';
import type { Router } from './router.js';

/** Counters of one participant (they only grow). */
export interface ParticipantStats {
  /** Clear RTP packets from the participant (before the rate limit and parsing). */
  rtpReceived: number;
  rtpBytesReceived: number;
  rtcpReceived: number;
  /** RTP packets forwarded to the participant (retransmissions included) and their bytes. */
  rtpSent: number;
  rtpBytesSent: number;
  /** Packets it asked for by NACK and got again from the packet cache. */
  retransmissionsSent: number;
  /** Generic NACK feedback packets it sent us (RFC 4585 §6.2.1). */
  nacksReceived: number;
  /** NACK packets we sent it for media of its own that we missed. */
  nacksSent: number;
  /** Picture Loss Indications it sent us (RFC 4585 §6.3.1). */
  plisReceived: number;
  /** Full Intra Requests it sent us (RFC 5104 §4.3.1). */
  firsReceived: number;
  /** Key-frame requests (PLIs) we sent it, throttled to one per track per interval. */
  keyFrameRequestsSent: number;
  /** Packets dropped, by reason (stable kebab-case codes). */
  dropped: Record<string, number>;
}

export function newParticipantStats(): ParticipantStats {
  return {
    rtpReceived: 0,
    rtpBytesReceived: 0,
    rtcpReceived: 0,
    rtpSent: 0,
    rtpBytesSent: 0,
    retransmissionsSent: 0,
    nacksReceived: 0,
    nacksSent: 0,
    plisReceived: 0,
    firsReceived: 0,
    keyFrameRequestsSent: 0,
    dropped: {},
  };
}

type Totals = Omit<ParticipantStats, 'dropped'>;
const TOTAL_KEYS = Object.keys(newParticipantStats()).filter(
  (k): k is keyof Totals => k !== 'dropped',
);

/** A snapshot of an SFU server (`SfuServer.stats()`). */
export interface SfuStats {
  rooms: number;
  participants: number;
  producers: number;
  consumers: number;
  /** WHIP/WHEP sessions (HTTP resources) held. */
  sessions: number;
  /** Endpoints watched that have not completed ICE and DTLS yet. */
  pendingEndpoints: number;
  /** Sums of `ParticipantStats` over every participant so far. */
  packets: Totals;
  /** Dropped packets by where and why: the router (per participant), endpoints, the mux. */
  drops: {
    router: Record<string, number>;
    /** SRTP/SRTCP authentication, replay, not-keyed… and DTLS drops (`dtls-<reason>`). */
    endpoint: Record<string, number>;
    /** The shared UDP port: packets from unknown addresses, garbage classes, bad STUN. */
    mux: Record<string, number>;
  };
  /** Participants that left, by reason (`abuse`, `flood`, `endpoint-connect-timeout`…). */
  closed: Record<string, number>;
  /** HTTP requests answered, and the refused ones by error code (`rate-limited`, `bad-sdp`…). */
  http: { requests: number; errors: Record<string, number> };
}

interface Watched {
  participant: Participant;
  /** Drops seen at the last sweep. */
  lastDrops: number;
}

/** Sums counters over a router's participants and a server's endpoints. */
export class SfuStatsCollector {
  readonly http = { requests: 0, errors: {} as Record<string, number> };
  private readonly retired = newParticipantStats();
  private readonly retiredEndpointDrops: Record<string, number> = {};
  private readonly closed: Record<string, number> = {};
  private readonly endpoints = new Map<WebRtcEndpoint, Watched>();

  constructor(private readonly router: Router) {
    for (const room of router.rooms.values()) this.watchRoom(room);
    router.on('room', (room) => this.watchRoom(room));
  }

  private watchRoom(room: Room): void {
    room.on('participantleave', (p, reason) => {
      bump(this.closed, reason, 1);
      for (const k of TOTAL_KEYS) this.retired[k] += p.stats[k];
      for (const [r, n] of Object.entries(p.stats.dropped)) bump(this.retired.dropped, r, n);
    });
  }

  /**
   * Counts `endpoint`'s drops in the totals (also after it ends) and holds it to its
   * participant's bad-packet budget in `sweep`.
   */
  watchEndpoint(endpoint: WebRtcEndpoint, participant: Participant): void {
    if (this.endpoints.has(endpoint) || endpoint.state === 'closed') return;
    this.endpoints.set(endpoint, { participant, lastDrops: 0 });
    endpoint.once('closed', () => {
      this.endpoints.delete(endpoint);
      for (const [r, n] of Object.entries(endpointDrops(endpoint))) {
        bump(this.retiredEndpointDrops, r, n);
      }
    });
  }

  /**
   * Once a second: a participant whose endpoint dropped more than `maxPerSecond` packets
   * since the last sweep (SRTP that fails authentication, replays, DTLS junk) is closed with
   * reason `abuse`. Returns how many were closed.
   */
  sweep(maxPerSecond: number, elapsedMs: number, logger: Logger): number {
    let n = 0;
    const budget = (maxPerSecond * Math.max(elapsedMs, 1)) / 1000;
    // Counter reads only: this runs over every endpoint each second, and building each one's
    // stats objects here made ~1 MB of garbage a sweep at 500 sessions (promoted by the
    // scavenge it forced, then freed by mark-sweeps whose pauses the forwarded packets wait).
    for (const [ep, w] of this.endpoints) {
      const total = ep.droppedPackets(BENIGN_DROP);
      const delta = total - w.lastDrops;
      w.lastDrops = total;
      if (delta <= budget || w.participant.closed) continue;
      const drops = endpointDrops(ep);
      logger.info(
        { participant: w.participant.id, room: w.participant.room.id, reason: 'abuse', drops },
        'sfu participant closed: too many packets failing SRTP/DTLS',
      );
      n++;
      w.participant.close('abuse');
    }
    return n;
  }

  stats(mux: IceLiteCounters | undefined, sessions: number): SfuStats {
    const packets = {} as Totals;
    for (const k of TOTAL_KEYS) packets[k] = this.retired[k];
    const router: Record<string, number> = { ...this.retired.dropped };
    let participants = 0;
    let producers = 0;
    let consumers = 0;
    for (const room of this.router.rooms.values()) {
      for (const p of room.participants.values()) {
        participants++;
        producers += p.producers.size;
        consumers += p.consumers.size;
        for (const k of TOTAL_KEYS) packets[k] += p.stats[k];
        for (const [r, v] of Object.entries(p.stats.dropped)) bump(router, r, v);
      }
    }
    const endpoint: Record<string, number> = { ...this.retiredEndpointDrops };
    let pendingEndpoints = 0;
    for (const ep of this.endpoints.keys()) {
      if (ep.state !== 'connected') pendingEndpoints++;
      if (ep.droppedPackets() === 0) continue; // most: no stats objects to build for them
      for (const [r, v] of Object.entries(endpointDrops(ep))) bump(endpoint, r, v);
    }
    return {
      rooms: this.router.rooms.size,
      participants,
      producers,
      consumers,
      sessions,
      pendingEndpoints,
      packets,
      drops: { router, endpoint, mux: { ...(mux?.drops ?? {}) } as Record<string, number> },
      closed: { ...this.closed },
      http: { requests: this.http.requests, errors: { ...this.http.errors } },
    };
  }

  httpError(code: string): void {
    bump(this.http.errors, code, 1);
  }
}

/**
 * The drop a well-behaved peer causes too: DTLS application data is SCTP for data channels
 * that nobody runs here (a browser opening one keeps retransmitting its INIT).
 */
const BENIGN_DROP = 'dtls-application-data';

/** An endpoint's drops: its own reasons, and its DTLS connection's as `dtls-<reason>`. */
function endpointDrops(ep: WebRtcEndpoint): Record<string, number> {
  const s = ep.stats();
  const out: Record<string, number> = {};
  for (const [r, v] of Object.entries(s.drops)) if (v) out[r] = v;
  for (const [r, v] of Object.entries(s.dtlsDrops)) out[`dtls-${r}`] = v;
  return out;
}

/** Distinct label values one counter keeps before folding the rest into `other`. */
const MAX_LABEL_VALUES = 64;

function bump(m: Record<string, number>, key: string, n: number): void {
  const k = key in m || Object.keys(m).length < MAX_LABEL_VALUES ? key : 'other';
  m[k] = (m[k] ?? 0) + n;
}

const PACKET_COUNTERS: [keyof Totals, string, string][] = [
  ['rtpReceived', 'rtcd_sfu_rtp_received_packets_total', 'RTP packets from participants'],
  ['rtpBytesReceived', 'rtcd_sfu_rtp_received_bytes_total', 'clear RTP bytes from participants'],
  ['rtcpReceived', 'rtcd_sfu_rtcp_received_packets_total', 'RTCP packets from participants'],
  ['rtpSent', 'rtcd_sfu_forwarded_packets_total', 'RTP packets forwarded to subscribers'],
  ['rtpBytesSent', 'rtcd_sfu_forwarded_bytes_total', 'clear RTP bytes forwarded to subscribers'],
  ['retransmissionsSent', 'rtcd_sfu_retransmissions_total', 'packets resent on NACK from cache'],
  ['nacksReceived', 'rtcd_sfu_nacks_received_total', 'NACK packets from subscribers'],
  ['nacksSent', 'rtcd_sfu_nacks_sent_total', 'NACK packets sent to publishers'],
  ['plisReceived', 'rtcd_sfu_plis_received_total', 'PLI packets from subscribers'],
  ['firsReceived', 'rtcd_sfu_firs_received_total', 'FIR packets from subscribers'],
  [
    'keyFrameRequestsSent',
    'rtcd_sfu_keyframe_requests_sent_total',
    'PLIs sent to publishers (throttled)',
  ],
];

/**
 * Prometheus metrics of one SFU server, on a registry of its own (never the global one, so
 * two servers in one process do not collide). Gauges and counters read `source()` at scrape.
 */
export function sfuRegistry(source: () => SfuStats): Registry {
  const registry = new Registry();
  let snap: SfuStats | undefined;
  // One snapshot per scrape: the first collect() takes it, the others reuse it.
  const get = (): SfuStats => {
    snap ??= source();
    queueMicrotask(() => {
      snap = undefined;
    });
    return snap;
  };
  const gauges: [keyof SfuStats, string, string][] = [
    ['rooms', 'rtcd_sfu_rooms', 'rooms open'],
    ['participants', 'rtcd_sfu_participants', 'participants in rooms'],
    ['producers', 'rtcd_sfu_producers', 'published tracks'],
    ['consumers', 'rtcd_sfu_consumers', 'subscriptions'],
    ['sessions', 'rtcd_sfu_sessions', 'WHIP/WHEP sessions held'],
    ['pendingEndpoints', 'rtcd_sfu_pending_endpoints', 'endpoints not connected yet'],
  ];
  for (const [key, name, help] of gauges) {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(get()[key] as number);
      },
    });
  }
  for (const [key, name, help] of PACKET_COUNTERS) {
    totalsCounter(registry, name, help, [], () => [[{}, get().packets[key]]]);
  }
  totalsCounter(
    registry,
    'rtcd_sfu_dropped_packets_total',
    'dropped packets',
    ['where', 'reason'],
    () =>
      (['router', 'endpoint', 'mux'] as const).flatMap((where) =>
        Object.entries(get().drops[where]).map(
          ([reason, n]) => [{ where, reason }, n] as [Record<string, string>, number],
        ),
      ),
  );
  totalsCounter(
    registry,
    'rtcd_sfu_participants_closed_total',
    'participants that left',
    ['reason'],
    () => Object.entries(get().closed).map(([reason, n]) => [{ reason }, n]),
  );
  totalsCounter(registry, 'rtcd_sfu_http_requests_total', 'HTTP requests', [], () => [
    [{}, get().http.requests],
  ]);
  totalsCounter(registry, 'rtcd_sfu_http_errors_total', 'HTTP error replies', ['code'], () =>
    Object.entries(get().http.errors).map(([code, n]) => [{ code }, n]),
  );
  return registry;
}
