/**
 * The SDP data model (RFC 8866): a session description is the session-level lines followed by
 * media sections, each line kept as written so `serialize(parse(text))` reproduces the text.
 * Typed views (`mid()`, `codecsOf()`, …) read these lines; they never cache, so editing
 * `lines` directly is always safe.
 */

/** One `<type>=<value>` line (RFC 8866 §5). For `a=` lines `value` is `name[:value]`. */
export interface SdpLine {
  /** A single lowercase letter: `v`, `o`, `s`, `c`, `b`, `t`, `a`, … */
  type: string;
  value: string;
}

/** One media section: its `m=` line parsed, then every following line up to the next `m=`. */
export interface MediaSection {
  /** `audio`, `video`, `application`, … */
  kind: string;
  /** 0 in an answer means the section is rejected (RFC 8829 §5.3.1); 9 is the WebRTC dummy. */
  port: number;
  /** The `/<number of ports>` suffix, rare and never used by WebRTC. */
  portCount?: number;
  /** `UDP/TLS/RTP/SAVPF`, `UDP/DTLS/SCTP`, … */
  protocol: string;
  /** RTP payload types as written (`'111'`), or `webrtc-datachannel` for SCTP. */
  formats: string[];
  /** Every line after the `m=` line, in order. */
  lines: SdpLine[];
}

export interface SessionDescription {
  /** Session-level lines, `v=`, `o=`, `s=` first, in order. */
  session: SdpLine[];
  media: MediaSection[];
}

/** `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>` (§5.2). */
export interface Origin {
  username: string;
  sessionId: string;
  sessionVersion: string;
  netType: string;
  addressType: string;
  address: string;
}

/** The text of a media section's `m=` line value (without `m=`). */
export function formatMediaLine(m: MediaSection): string {
  const port = m.portCount === undefined ? `${m.port}` : `${m.port}/${m.portCount}`;
  return [m.kind, port, m.protocol, ...m.formats].join(' ');
}

/** The session's `o=` line, or undefined if missing or not six fields. */
export function originOf(desc: SessionDescription): Origin | undefined {
  const line = desc.session.find((l) => l.type === 'o');
  if (line === undefined) return undefined;
  const f = line.value.split(' ');
  if (f.length !== 6 || f.some((x) => x === '')) return undefined;
  return {
    username: f[0]!,
    sessionId: f[1]!,
    sessionVersion: f[2]!,
    netType: f[3]!,
    addressType: f[4]!,
    address: f[5]!,
  };
}

export function formatOrigin(o: Origin): string {
  return [o.username, o.sessionId, o.sessionVersion, o.netType, o.addressType, o.address].join(' ');
}
