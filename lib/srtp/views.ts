/**
 * DataViews over whole ArrayBuffers, remembered in a small shared cache, so per-packet code
 * reads and writes 32-bit words without allocating a DataView per call. The cache holds the
 * last CACHED ArrayBuffers seen (an SFU's packets come from a few slabs and socket buffers, so
 * one per slot, as before, made a DataView per packet when those alternated); each slot
 * remembers where its last hit was, so the usual lookup is one comparison. Offsets into the
 * returned view are `array.byteOffset + i`; bounds are the caller's to check against the
 * array's length.
 */
export const Slot = { out: 0, src: 1, data: 2, hmac: 3, tag: 4 } as const;
export type Slot = (typeof Slot)[keyof typeof Slot];

const CACHED = 16;
const buffers: (ArrayBufferLike | undefined)[] = Array.from({ length: CACHED }, () => undefined);
const views: (DataView | undefined)[] = Array.from({ length: CACHED }, () => undefined);
const lastHit = [0, 0, 0, 0, 0];
let nextVictim = 0;

/** A DataView over `a.buffer` (the whole of it). */
export function viewOf(a: Uint8Array, slot: Slot): DataView {
  const buffer = a.buffer;
  const hint = lastHit[slot] ?? 0;
  if (buffers[hint] === buffer) {
    const view = views[hint];
    if (view !== undefined) return view;
  }
  for (let i = 0; i < CACHED; i++) {
    if (buffers[i] === buffer) {
      const view = views[i];
      if (view !== undefined) {
        lastHit[slot] = i;
        return view;
      }
    }
  }
  // Evict round-robin, never an entry a slot hit last (it is likely in use this packet).
  let victim = nextVictim;
  for (let tries = 0; tries < CACHED && lastHit.includes(victim); tries++) {
    victim = (victim + 1) % CACHED;
  }
  nextVictim = (victim + 1) % CACHED;
  const fresh = new DataView(buffer);
  buffers[victim] = buffer;
  views[victim] = fresh;
  lastHit[slot] = victim;
  return fresh;
}

/** dst[dstAt + i] = src[srcAt + i] for i < n: for the few bytes of a header or tag. */
export function copyBytes(
  src: Uint8Array,
  srcAt: number,
  dst: Uint8Array,
  dstAt: number,
  n: number,
): void {
  for (let i = 0; i < n; i++) dst[dstAt + i] = src[srcAt + i] ?? 0;
}
