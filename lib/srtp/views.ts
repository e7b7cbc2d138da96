/**
 * DataViews over whole ArrayBuffers, remembered per slot, so per-packet code reads and writes
 * 32-bit words without allocating a DataView per call when the caller keeps reusing its
 * buffers (and Node's small Buffers share one pool ArrayBuffer). Each slot holds on to the
 * last ArrayBuffer seen through it (one per slot, never more). Offsets into the returned view
 * are `array.byteOffset + i`; bounds are the caller's to check against the array's length.
 */
export const Slot = { out: 0, src: 1, keystream: 2, data: 3, hmac: 4, tag: 5 } as const;
export type Slot = (typeof Slot)[keyof typeof Slot];

const buffers: (ArrayBufferLike | undefined)[] = Array.from({ length: 6 }, () => undefined);
const views: (DataView | undefined)[] = Array.from({ length: 6 }, () => undefined);

/** A DataView over `a.buffer` (the whole of it). */
export function viewOf(a: Uint8Array, slot: Slot): DataView {
  const buffer = a.buffer;
  const view = views[slot];
  if (view !== undefined && buffers[slot] === buffer) return view;
  // The same buffer through another slot (a packet unprotected in place is read as MAC or
  // GHASH input, then as cipher input and output): one view per buffer, not one per slot.
  let found: DataView | undefined;
  for (let i = 0; i < buffers.length; i++) {
    if (buffers[i] === buffer) found = views[i];
  }
  const fresh = found ?? new DataView(buffer);
  buffers[slot] = buffer;
  views[slot] = fresh;
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
