import { isStreamFrameStart, streamFrameLength } from './channel-data.js';

/**
 * Largest frame on a TURN stream: STUN 20 + 65532 (lengths are multiples of 4); ChannelData
 * 4 + 65535 + 1 byte of padding is smaller.
 */
export const MAX_STREAM_FRAME = 20 + 0xfffc;

/**
 * Takes one whole frame `data[offset, offset + length)`, a view valid during the call only.
 * Returns false to stop framing the chunk at hand (the connection was closed meanwhile).
 */
export type FrameHandler = (data: Buffer, offset: number, length: number) => boolean;

/**
 * Cuts a TURN byte stream (TCP/TLS, RFC 8656 §3.1) into STUN messages and ChannelData
 * frames (padded to 4 bytes, §12.5). Frames inside a chunk are handed on as offsets into it,
 * uncopied. A frame split across chunks is held as the chunks it came in and joined once,
 * when its last byte has arrived: a 64 KiB frame sent a byte at a time costs linear time,
 * not a copy of everything so far per byte. At most one frame (`MAX_STREAM_FRAME`) plus the
 * chunk that completes it is held.
 */
export class StreamFramer {
  private chunks: Buffer[] = [];
  private held = 0;
  /** Bytes wanted before joining: 4 until the frame header is there, then the frame size. */
  private needed = 0;

  constructor(private readonly onFrame: FrameHandler) {}

  /** Bytes of an incomplete frame held. */
  get buffered(): number {
    return this.held;
  }

  /**
   * Frames what `chunk` completes. Returns false if the bytes cannot start a STUN message or
   * ChannelData (garbage, or a stream out of sync): the caller closes the connection.
   */
  push(chunk: Buffer): boolean {
    const data = this.join(chunk);
    if (data === undefined) return true;
    let offset = 0;
    let size = 0;
    while (data.length - offset >= 4) {
      size = (isStreamFrameStart(data, offset) && streamFrameLength(data, offset)) || 0;
      if (size === 0 || size > MAX_STREAM_FRAME) {
        this.clear();
        return false;
      }
      if (data.length - offset < size) break;
      if (!this.onFrame(data, offset, size)) return true;
      offset += size;
      size = 0;
    }
    if (offset < data.length) this.hold(data.subarray(offset), size);
    return true;
  }

  /** Forgets any incomplete frame. */
  clear(): void {
    this.chunks = [];
    this.held = 0;
    this.needed = 0;
  }

  /** `chunk` alone, or all held bytes joined once enough are there, else undefined. */
  private join(chunk: Buffer): Buffer | undefined {
    if (this.held === 0) return chunk;
    this.chunks.push(chunk);
    this.held += chunk.length;
    if (this.held < this.needed) return undefined;
    const joined = Buffer.concat(this.chunks, this.held);
    this.clear();
    return joined;
  }

  /** Holds `rest`, the start of a frame of `frameSize` bytes (0: its header is incomplete). */
  private hold(rest: Buffer, frameSize: number): void {
    this.chunks = [rest];
    this.held = rest.length;
    this.needed = frameSize === 0 ? 4 : frameSize;
  }
}
