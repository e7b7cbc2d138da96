/**
 * Key-frame detection on RTP payloads, per codec: true only for the first packet of a key
 * frame (where a forwarder can start or switch a stream). Never throws on short payloads.
 */

export type CodecName = 'opus' | 'vp8' | 'vp9' | 'h264' | 'av1' | 'other';

/** The codec name of a MIME type such as `video/VP8` or `audio/opus`. */
export function codecFromMimeType(mimeType: string): CodecName {
  const sub = mimeType.toLowerCase().split('/')[1] ?? '';
  if (sub === 'opus' || sub === 'vp8' || sub === 'vp9' || sub === 'h264' || sub === 'av1') {
    return sub;
  }
  return 'other';
}

/** VP8 (RFC 7741 §4.2–4.3): S=1, PartID=0, then the payload header's P bit clear. */
export function isVp8KeyFrame(p: Uint8Array): boolean {
  if (p.length < 1) return false;
  const b0 = p[0]!;
  if ((b0 & 0x10) === 0 || (b0 & 0x07) !== 0) return false;
  let i = 1;
  if (b0 & 0x80) {
    if (p.length < 2) return false;
    const x = p[1]!;
    i = 2;
    if (x & 0x80) i += p.length > i && p[i]! & 0x80 ? 2 : 1; // PictureID, M bit: 15 bits
    if (x & 0x40) i++; // TL0PICIDX
    if (x & 0x30) i++; // TID/Y/KEYIDX
  }
  return i < p.length && (p[i]! & 0x01) === 0;
}

/**
 * VP9 (RFC 9628 §4.2): P=0 (no inter-picture dependency) and B=1 (start of a frame); with
 * layer indices present, spatial layer 0 only (the frame the upper layers build on).
 */
export function isVp9KeyFrame(p: Uint8Array): boolean {
  if (p.length < 1) return false;
  const b0 = p[0]!;
  if (b0 & 0x40 || (b0 & 0x08) === 0) return false;
  if ((b0 & 0x20) === 0) return true;
  let i = 1;
  if (b0 & 0x80) i += p.length > i && p[i]! & 0x80 ? 2 : 1;
  if (i >= p.length) return false;
  return ((p[i]! >> 1) & 0x07) === 0;
}

const H264_IDR = 5;
const H264_SPS = 7;
const H264_STAP_A = 24;
const H264_FU_A = 28;

/**
 * H.264 (RFC 6184 §5): an IDR slice or SPS as a single NAL unit, inside a STAP-A, or at the
 * start of an FU-A (S bit). libwebrtc sends SPS+PPS in a STAP-A ahead of the IDR.
 */
export function isH264KeyFrame(p: Uint8Array): boolean {
  if (p.length < 1) return false;
  const type = p[0]! & 0x1f;
  if (type === H264_IDR || type === H264_SPS) return true;
  if (type === H264_FU_A) {
    if (p.length < 2) return false;
    const fu = p[1]!;
    const inner = fu & 0x1f;
    return (fu & 0x80) !== 0 && (inner === H264_IDR || inner === H264_SPS);
  }
  if (type === H264_STAP_A) {
    let i = 1;
    while (i + 2 < p.length) {
      const size = (p[i]! << 8) | p[i + 1]!;
      if (size === 0 || i + 2 + size > p.length) return false;
      const inner = p[i + 2]! & 0x1f;
      if (inner === H264_IDR || inner === H264_SPS) return true;
      i += 2 + size;
    }
  }
  return false;
}

const OBU_SEQUENCE_HEADER = 1;

/**
 * AV1 (AV1 RTP spec §4.4): the aggregation header's N bit (first packet of a coded video
 * sequence), or a first OBU that is a sequence header with Z=0 (not a continuation).
 */
export function isAv1KeyFrame(p: Uint8Array): boolean {
  if (p.length < 2) return false;
  const agg = p[0]!;
  if (agg & 0x08) return true;
  if (agg & 0x80) return false;
  const w = (agg >> 4) & 0x03;
  let i = 1;
  if (w !== 1) {
    // A leb128 length precedes the element unless it is the last of W.
    while (i < p.length && p[i]! & 0x80) i++;
    i++;
  }
  return i < p.length && ((p[i]! >> 3) & 0x0f) === OBU_SEQUENCE_HEADER;
}

/**
 * AV1 dependency descriptor (AV1 RTP spec appendix A): start_of_frame set and a template
 * dependency structure attached, which libwebrtc sends only with key frames.
 */
export function isDependencyDescriptorKeyFrame(dd: Uint8Array): boolean {
  return dd.length > 3 && (dd[0]! & 0x80) !== 0 && (dd[3]! & 0x80) !== 0;
}

/** Key frame of `codec`; audio and unknown codecs: every packet is a start point. */
export function isKeyFrame(codec: CodecName, payload: Uint8Array): boolean {
  switch (codec) {
    case 'vp8':
      return isVp8KeyFrame(payload);
    case 'vp9':
      return isVp9KeyFrame(payload);
    case 'h264':
      return isH264KeyFrame(payload);
    case 'av1':
      return isAv1KeyFrame(payload);
    default:
      return true;
  }
}
