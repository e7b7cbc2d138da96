import { ExtensionType } from './constants.js';
import { EMPTY, Reader, readUint8List, readUint16List } from './messages/reader.js';
import { uint8List, uint16List, Writer } from './messages/writer.js';

/**
 * A hello extension (RFC 5246 §7.4.1.4). `data` is a view into the received message for
 * decoded extensions. Unknown extensions are kept raw, so a hello re-encodes byte for byte,
 * and the handshake ignores them.
 */
export interface Extension {
  type: number;
  data: Buffer;
}

/**
 * The extension block that ends a hello: a 2-byte total length, then type/length/data
 * entries. Undefined when lengths disagree or a type appears twice (RFC 5246 §7.4.1.4).
 */
export function decodeExtensions(block: Buffer): Extension[] | undefined {
  const r = new Reader(block);
  const all = r.sub(r.u16());
  if (!r.done) return undefined;
  const out: Extension[] = [];
  const seen = new Set<number>();
  while (all.ok && all.remaining > 0) {
    const type = all.u16();
    const data = all.vec16();
    if (!all.ok || seen.has(type)) return undefined;
    seen.add(type);
    out.push({ type, data });
  }
  return all.ok ? out : undefined;
}

/** Reads the extension block from a reader positioned at it (absent block = none). */
export function readExtensionBlock(r: Reader): Extension[] | undefined {
  if (r.remaining === 0) return r.ok ? [] : undefined;
  const list = decodeExtensions(r.bytes(r.remaining));
  return r.ok ? list : undefined;
}

/** Appends the block; nothing at all when `list` is empty (the field is optional). */
export function writeExtensionBlock(w: Writer, list: readonly Extension[]): void {
  if (list.length === 0) return;
  w.vec16(encodeExtensionList(list));
}

/** The entries without the 2-byte total length. */
export function encodeExtensionList(list: readonly Extension[]): Buffer {
  const w = new Writer();
  for (const e of list) w.u16(e.type).vec16(e.data);
  return w.toBuffer();
}

/** The block with its 2-byte total length. */
export function encodeExtensions(list: readonly Extension[]): Buffer {
  return new Writer().vec16(encodeExtensionList(list)).toBuffer();
}

export function findExtension(list: readonly Extension[], type: number): Extension | undefined {
  for (const e of list) if (e.type === type) return e;
  return undefined;
}

// --- use_srtp (RFC 5764 §4.1.1) ---------------------------------------------------------

export interface UseSrtp {
  /** SRTPProtectionProfile values, preference order. */
  profiles: number[];
  /** srtp_mki; WebRTC sends it empty. */
  mki: Buffer;
}

export function decodeUseSrtp(data: Buffer): UseSrtp | undefined {
  const r = new Reader(data);
  const profiles = readUint16List(r.vec16(2, 0xfffe));
  const mki = r.vec8();
  return r.done && profiles ? { profiles, mki } : undefined;
}

export function encodeUseSrtp(v: UseSrtp): Extension {
  const data = new Writer().vec16(uint16List(v.profiles)).vec8(v.mki).toBuffer();
  return { type: ExtensionType.useSrtp, data };
}

// --- supported_groups (RFC 8422 §5.1.1) -------------------------------------------------

export function decodeSupportedGroups(data: Buffer): number[] | undefined {
  const r = new Reader(data);
  const list = readUint16List(r.vec16(2, 0xfffe));
  return r.done ? list : undefined;
}

export function encodeSupportedGroups(groups: readonly number[]): Extension {
  return {
    type: ExtensionType.supportedGroups,
    data: new Writer().vec16(uint16List(groups)).toBuffer(),
  };
}

// --- ec_point_formats (RFC 8422 §5.1.2) -------------------------------------------------

export function decodeEcPointFormats(data: Buffer): number[] | undefined {
  const r = new Reader(data);
  const list = readUint8List(r.vec8(1));
  return r.done ? list : undefined;
}

export function encodeEcPointFormats(formats: readonly number[]): Extension {
  return {
    type: ExtensionType.ecPointFormats,
    data: new Writer().vec8(uint8List(formats)).toBuffer(),
  };
}

// --- signature_algorithms (RFC 5246 §7.4.1.4.1, SignatureScheme values of RFC 8446) -----

export function decodeSignatureAlgorithms(data: Buffer): number[] | undefined {
  const r = new Reader(data);
  const list = readUint16List(r.vec16(2, 0xfffe));
  return r.done ? list : undefined;
}

export function encodeSignatureAlgorithms(schemes: readonly number[]): Extension {
  return {
    type: ExtensionType.signatureAlgorithms,
    data: new Writer().vec16(uint16List(schemes)).toBuffer(),
  };
}

// --- extended_master_secret (RFC 7627 §5.1): empty ---------------------------------------

export function decodeExtendedMasterSecret(data: Buffer): true | undefined {
  return data.length === 0 ? true : undefined;
}

export function encodeExtendedMasterSecret(): Extension {
  return { type: ExtensionType.extendedMasterSecret, data: EMPTY };
}

// --- renegotiation_info (RFC 5746 §3.2): empty on an initial handshake --------------------

export function decodeRenegotiationInfo(data: Buffer): Buffer | undefined {
  const r = new Reader(data);
  const v = r.vec8();
  return r.done ? v : undefined;
}

export function encodeRenegotiationInfo(renegotiatedConnection: Buffer = EMPTY): Extension {
  return {
    type: ExtensionType.renegotiationInfo,
    data: new Writer().vec8(renegotiatedConnection).toBuffer(),
  };
}

// --- supported_versions (RFC 8446 §4.2.1): offered by DTLS 1.3 clients --------------------

/** The ClientHello form: a list of versions. */
export function decodeSupportedVersions(data: Buffer): number[] | undefined {
  const r = new Reader(data);
  const list = readUint16List(r.vec8(2, 254));
  return r.done ? list : undefined;
}

export function encodeSupportedVersions(versions: readonly number[]): Extension {
  return {
    type: ExtensionType.supportedVersions,
    data: new Writer().vec8(uint16List(versions)).toBuffer(),
  };
}

// --- key_share (RFC 8446 §4.2.8): the ClientHello form, parsed only to prove it is skipped --

export interface KeyShareEntry {
  group: number;
  keyExchange: Buffer;
}

export function decodeKeyShareClientHello(data: Buffer): KeyShareEntry[] | undefined {
  const r = new Reader(data);
  const list = r.sub(r.u16());
  if (!r.done) return undefined;
  const out: KeyShareEntry[] = [];
  while (list.ok && list.remaining > 0) {
    const group = list.u16();
    const keyExchange = list.vec16(1);
    out.push({ group, keyExchange });
  }
  return list.ok ? out : undefined;
}

export function encodeKeyShareClientHello(entries: readonly KeyShareEntry[]): Extension {
  const inner = new Writer();
  for (const e of entries) inner.u16(e.group).vec16(e.keyExchange);
  return { type: ExtensionType.keyShare, data: new Writer().vec16(inner.toBuffer()).toBuffer() };
}
