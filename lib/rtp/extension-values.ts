/**
 * Values of the header extensions browsers send. Each reader takes the value's offset (and
 * length) as found by `findExtension`; each writer fills `out` at `offset` and returns the
 * value's length. Readers return -1 / undefined when the value is too short for its format.
 */
import { readU32 } from './rtp-packet.js';

/** The extension URIs negotiated in SDP `a=extmap` lines. */
export const ExtensionUri = {
  absSendTime: 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  transportWideCc: 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  audioLevel: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  mid: 'urn:ietf:params:rtp-hdrext:sdes:mid',
  rtpStreamId: 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id',
  repairedRtpStreamId: 'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id',
  videoOrientation: 'urn:3gpp:video-orientation',
  playoutDelay: 'http://www.webrtc.org/experiments/rtp-hdrext/playout-delay',
  dependencyDescriptor:
    'https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension',
} as const;

/** abs-send-time: 24 bits, seconds in 6.18 fixed point (wraps every 64 s). */
export function readAbsSendTime(buf: Uint8Array, offset: number, length = 3): number {
  if (length < 3) return -1;
  return (buf[offset]! << 16) | (buf[offset + 1]! << 8) | buf[offset + 2]!;
}

export function writeAbsSendTime(out: Uint8Array, offset: number, value: number): number {
  out[offset] = (value >> 16) & 0xff;
  out[offset + 1] = (value >> 8) & 0xff;
  out[offset + 2] = value & 0xff;
  return 3;
}

/** Seconds (any clock) → the 24-bit 6.18 value: the low 6 integer bits and 18 fraction bits. */
export function absSendTimeFromSeconds(seconds: number): number {
  return Math.round(seconds * 262144) & 0xffffff;
}

/** The 24-bit value → seconds in [0, 64). */
export function absSendTimeToSeconds(value: number): number {
  return (value & 0xffffff) / 262144;
}

/** transport-wide-cc: a 16-bit transport sequence number. */
export function readTransportSequenceNumber(buf: Uint8Array, offset: number, length = 2): number {
  if (length < 2) return -1;
  return (buf[offset]! << 8) | buf[offset + 1]!;
}

export function writeTransportSequenceNumber(out: Uint8Array, offset: number, seq: number): number {
  out[offset] = (seq >> 8) & 0xff;
  out[offset + 1] = seq & 0xff;
  return 2;
}

/** ssrc-audio-level (RFC 6464 §3): V bit then the level in -dBov, 0 (loudest) to 127. */
export interface AudioLevel {
  voiceActivity: boolean;
  level: number;
}

export function readAudioLevel(
  buf: Uint8Array,
  offset: number,
  length = 1,
): AudioLevel | undefined {
  if (length < 1) return undefined;
  const b = buf[offset]!;
  return { voiceActivity: (b & 0x80) !== 0, level: b & 0x7f };
}

/** The level alone (-dBov), without allocating; -1 if the value is empty. */
export function readAudioLevelDbov(buf: Uint8Array, offset: number, length = 1): number {
  return length < 1 ? -1 : buf[offset]! & 0x7f;
}

export function writeAudioLevel(out: Uint8Array, offset: number, v: AudioLevel): number {
  if (!(Number.isInteger(v.level) && v.level >= 0 && v.level <= 127)) {
    throw new RangeError('audio level 0-127 -dBov');
  }
  out[offset] = (v.voiceActivity ? 0x80 : 0) | v.level;
  return 1;
}

/** sdes:mid, sdes:rtp-stream-id, sdes:repaired-rtp-stream-id (RFC 8843, RFC 8852): text. */
export function readSdesString(buf: Uint8Array, offset: number, length: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + offset, length).toString('utf8');
}

export function writeSdesString(out: Uint8Array, offset: number, value: string): number {
  const n = Buffer.byteLength(value, 'utf8');
  if (n < 1 || n > 255) throw new RangeError('SDES item 1-255 bytes');
  if (offset + n > out.length) throw new RangeError('output buffer too small');
  Buffer.from(out.buffer, out.byteOffset, out.length).write(value, offset, 'utf8');
  return n;
}

/** True when the value's bytes equal `value`'s UTF-8 (ASCII fast path, no allocation). */
export function sdesStringEquals(
  buf: Uint8Array,
  offset: number,
  length: number,
  value: string,
): boolean {
  if (length !== value.length) return readSdesString(buf, offset, length) === value;
  for (let i = 0; i < length; i++) {
    const c = value.charCodeAt(i);
    if (c > 0x7f) return readSdesString(buf, offset, length) === value;
    if (buf[offset + i] !== c) return false;
  }
  return true;
}

/** video-orientation (3GPP TS 26.114 CVO): 0 0 0 0 C F R1 R0. */
export interface VideoOrientation {
  /** Clockwise rotation in degrees: 0, 90, 180 or 270. */
  rotation: number;
  /** Horizontal flip. */
  flip: boolean;
  /** Back-facing camera. */
  backCamera: boolean;
}

export function readVideoOrientation(
  buf: Uint8Array,
  offset: number,
  length = 1,
): VideoOrientation | undefined {
  if (length < 1) return undefined;
  const b = buf[offset]!;
  return { rotation: (b & 3) * 90, flip: (b & 4) !== 0, backCamera: (b & 8) !== 0 };
}

export function writeVideoOrientation(
  out: Uint8Array,
  offset: number,
  v: VideoOrientation,
): number {
  if (![0, 90, 180, 270].includes(v.rotation)) throw new RangeError('rotation 0/90/180/270');
  out[offset] = (v.backCamera ? 8 : 0) | (v.flip ? 4 : 0) | (v.rotation / 90);
  return 1;
}

/** playout-delay: minimum and maximum, 12 bits each, in units of 10 ms. */
export interface PlayoutDelay {
  min: number;
  max: number;
}

export function readPlayoutDelay(
  buf: Uint8Array,
  offset: number,
  length = 3,
): PlayoutDelay | undefined {
  if (length < 3) return undefined;
  const v = (buf[offset]! << 16) | (buf[offset + 1]! << 8) | buf[offset + 2]!;
  return { min: v >> 12, max: v & 0xfff };
}

export function writePlayoutDelay(out: Uint8Array, offset: number, v: PlayoutDelay): number {
  for (const x of [v.min, v.max]) {
    if (!(Number.isInteger(x) && x >= 0 && x <= 0xfff)) throw new RangeError('delay 0-4095');
  }
  return writeAbsSendTime(out, offset, (v.min << 12) | v.max);
}

/**
 * AV1 dependency descriptor: forwarded as opaque bytes (its structure needs the template from a
 * key frame, which an SFU that only forwards does not parse). A view, valid as the packet is.
 */
export function readDependencyDescriptor(
  buf: Uint8Array,
  offset: number,
  length: number,
): Uint8Array {
  return buf.subarray(offset, offset + length);
}

/** A 32-bit big-endian value, for extensions this module has no helper for. */
export function readExtensionU32(buf: Uint8Array, offset: number, length: number): number {
  return length < 4 ? -1 : readU32(buf, offset);
}
