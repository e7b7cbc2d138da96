/** Synthetic RTP streams and a router with a fake clock, for the SFU specs. */
import { decodeRtcp, type RtcpPacket } from '../../lib/rtcp/index.js';
import { type HeaderExtension, RtpPacket, writeRtp } from '../../lib/rtp/index.js';
import { type Participant, type Room, Router, type RouterOptions } from '../../lib/sfu/index.js';

export interface Leg {
  participant: Participant;
  rtp: RtpPacket[];
  rtcp: RtcpPacket[];
}

export class Clock {
  t = 1000;
  now = (): number => this.t;
}

export function setup(options: RouterOptions = {}): {
  clock: Clock;
  router: Router;
  room: Room;
  join: (id: string) => Leg;
} {
  const clock = new Clock();
  const router = new Router({ now: clock.now, wallClock: () => 1.7e12 + clock.t, ...options });
  const room = router.createRoom('room');
  const join = (id: string): Leg => {
    const leg: Leg = { participant: undefined as never, rtp: [], rtcp: [] };
    leg.participant = room.join({
      id,
      sendRtp: (b, length) => {
        // The router's buffer is reused for its next packet: keep a copy.
        const p = new RtpPacket();
        if (p.parse(Buffer.from(b.subarray(0, length))) !== undefined) {
          throw new Error('router sent bad RTP');
        }
        leg.rtp.push(p);
      },
      sendRtcp: (b) => {
        const r = decodeRtcp(b);
        if (!r.ok) throw new Error(`router sent bad RTCP: ${r.reason}`);
        leg.rtcp.push(...r.packets);
      },
    });
    return leg;
  };
  return { clock, router, room, join };
}

/** VP8 payload (RFC 7741) with a PictureID; key frames have S=1, PID 0 and P=0. */
export function vp8(key: boolean, start = true): Buffer {
  return Buffer.from([0x80 | (start ? 0x10 : 0), 0x80, 0x81, 0x23, key ? 0x10 : 0x11, 1, 2, 3]);
}

export interface PacketSpec {
  ssrc: number;
  seq: number;
  ts: number;
  pt?: number;
  marker?: boolean;
  extensions?: HeaderExtension[];
  payload?: Uint8Array;
}

export function rtp(s: PacketSpec): Buffer {
  const out = Buffer.alloc(1500);
  const n = writeRtp(
    out,
    0,
    {
      payloadType: s.pt ?? 96,
      sequenceNumber: s.seq & 0xffff,
      timestamp: s.ts >>> 0,
      ssrc: s.ssrc,
      marker: s.marker ?? false,
      extensions: s.extensions ?? [],
    },
    s.payload ?? vp8(false),
  );
  return out.subarray(0, n);
}

export const VP8 = {
  kind: 'video' as const,
  mimeType: 'video/VP8',
  payloadType: 96,
  clockRate: 90000,
  rtxPayloadType: 97,
};

export const OPUS = {
  kind: 'audio' as const,
  mimeType: 'audio/opus',
  payloadType: 111,
  clockRate: 48000,
};

export function ofKind<K extends RtcpPacket['kind']>(
  packets: RtcpPacket[],
  kind: K,
): Extract<RtcpPacket, { kind: K }>[] {
  return packets.filter((p): p is Extract<RtcpPacket, { kind: K }> => p.kind === kind);
}
