/**
 * File transfer over the negotiated `file` data channel, one file at a time per channel:
 * a JSON header with the SHA-256 of the whole file, binary chunks, a JSON end marker; the
 * receiver hashes what arrived with crypto.subtle and answers with an ack saying whether it
 * matched. Sending waits on `bufferedamountlow` so a large file never floods the SCTP buffer.
 */
import { byId, el, formatBytes, sha256Hex } from './dom.js';
import type { TransferView } from './test-state.js';

/** 16 KiB: the largest message every browser's SCTP stack accepts without fragmentation. */
export const CHUNK_BYTES = 16 * 1024;
/** Sending pauses above this much buffered data and resumes at the low-water mark. */
export const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;
export const MAX_FILE_BYTES = 256 * 1024 * 1024;

type Control =
  | { t: 'file'; id: string; name: string; size: number; mime: string; sha256: string }
  | { t: 'end'; id: string }
  | { t: 'ack'; id: string; ok: boolean };

interface Incoming {
  view: TransferView;
  mime: string;
  chunks: ArrayBuffer[];
  row: TransferRow;
}

export class FileTransfer {
  readonly transfers: TransferView[] = [];
  readonly #channels = new Map<string, RTCDataChannel>();
  readonly #incoming = new Map<string, Incoming>();
  readonly #rows = new Map<TransferView, TransferRow>();
  readonly #sendQueues = new Map<string, Promise<void>>();
  readonly #list = byId<HTMLUListElement>('transfers');

  constructor(private readonly names: (peerId: string) => string) {}

  attach(peerId: string, channel: RTCDataChannel): void {
    this.#channels.set(peerId, channel);
    channel.binaryType = 'arraybuffer';
    channel.bufferedAmountLowThreshold = LOW_WATER;
    channel.addEventListener('message', (e) => this.#onMessage(peerId, e.data));
  }

  detach(peerId: string): void {
    this.#channels.delete(peerId);
    this.#incoming.delete(peerId);
    this.#sendQueues.delete(peerId);
  }

  /** Sends `file` to every peer whose channel is open; resolves when all have been sent. */
  async send(file: File): Promise<void> {
    if (file.size > MAX_FILE_BYTES) throw new Error(`${file.name} is over 256 MiB`);
    const data = await file.arrayBuffer();
    const sha256 = await sha256Hex(data);
    const sends: Promise<void>[] = [];
    for (const [peerId, channel] of this.#channels) {
      if (channel.readyState !== 'open') continue;
      const view: TransferView = {
        id: crypto.randomUUID(),
        peerId,
        direction: 'send',
        name: file.name,
        size: file.size,
        bytes: 0,
        sha256,
        done: false,
      };
      const header: Control = {
        t: 'file',
        id: view.id,
        name: file.name,
        size: file.size,
        mime: file.type,
        sha256,
      };
      // One file at a time per channel: chunks carry no id, so transfers must not interleave.
      const previous = this.#sendQueues.get(peerId) ?? Promise.resolve();
      const next = previous.then(() => this.#sendTo(channel, view, header, data));
      this.#sendQueues.set(
        peerId,
        next.catch(() => {}),
      );
      sends.push(next);
    }
    await Promise.all(sends);
  }

  async #sendTo(
    channel: RTCDataChannel,
    view: TransferView,
    header: Control,
    data: ArrayBuffer,
  ): Promise<void> {
    const row = this.#add(view);
    channel.send(JSON.stringify(header));
    for (let offset = 0; offset < data.byteLength; offset += CHUNK_BYTES) {
      if (channel.bufferedAmount > HIGH_WATER) await drained(channel);
      if (channel.readyState !== 'open') throw new Error('data channel closed mid-transfer');
      const chunk = data.slice(offset, offset + CHUNK_BYTES);
      channel.send(chunk);
      view.peakBuffered = Math.max(view.peakBuffered ?? 0, channel.bufferedAmount);
      view.bytes += chunk.byteLength;
      row.progress();
    }
    channel.send(JSON.stringify({ t: 'end', id: view.id } satisfies Control));
    view.done = true;
    row.progress();
  }

  #onMessage(peerId: string, data: unknown): void {
    if (data instanceof ArrayBuffer) {
      const incoming = this.#incoming.get(peerId);
      if (incoming === undefined) return;
      if (incoming.view.bytes + data.byteLength > incoming.view.size) {
        // More than announced: not the file we were promised; stop holding it.
        this.#incoming.delete(peerId);
        incoming.view.verified = false;
        incoming.view.done = true;
        incoming.row.progress();
        return;
      }
      incoming.chunks.push(data);
      incoming.view.bytes += data.byteLength;
      incoming.row.progress();
      return;
    }
    if (typeof data !== 'string') return;
    let control: Control;
    try {
      control = JSON.parse(data) as Control;
    } catch {
      return;
    }
    if (control.t === 'file' && validHeader(control)) this.#begin(peerId, control);
    else if (control.t === 'end') void this.#finish(peerId, control.id);
    else if (control.t === 'ack') this.#acked(control.id, control.ok);
  }

  #begin(peerId: string, header: Extract<Control, { t: 'file' }>): void {
    const view: TransferView = {
      id: header.id,
      peerId,
      direction: 'receive',
      name: header.name,
      size: header.size,
      bytes: 0,
      sha256: header.sha256,
      done: false,
    };
    this.#incoming.set(peerId, { view, mime: header.mime, chunks: [], row: this.#add(view) });
  }

  async #finish(peerId: string, id: string): Promise<void> {
    const incoming = this.#incoming.get(peerId);
    if (incoming === undefined || incoming.view.id !== id) return;
    this.#incoming.delete(peerId);
    const blob = new Blob(incoming.chunks, { type: incoming.mime });
    const actual = await sha256Hex(await blob.arrayBuffer());
    const { view } = incoming;
    view.verified = actual === view.sha256 && view.bytes === view.size;
    view.done = true;
    incoming.row.progress();
    incoming.row.offerDownload(blob);
    const ack: Control = { t: 'ack', id, ok: view.verified };
    const channel = this.#channels.get(peerId);
    if (channel?.readyState === 'open') channel.send(JSON.stringify(ack));
  }

  #acked(id: string, ok: boolean): void {
    const view = this.transfers.find((v) => v.id === id && v.direction === 'send');
    if (view === undefined) return;
    view.verified = ok;
    this.#rows.get(view)?.progress();
  }

  #add(view: TransferView): TransferRow {
    this.transfers.push(view);
    const row = new TransferRow(view, this.names(view.peerId));
    this.#rows.set(view, row);
    this.#list.append(row.node);
    return row;
  }
}

/** One line of the transfer list: name, progress bar, and the checksum verdict. */
class TransferRow {
  readonly node: HTMLLIElement;
  readonly #bar: HTMLProgressElement;
  readonly #status: HTMLSpanElement;

  constructor(
    private readonly view: TransferView,
    peerName: string,
  ) {
    const arrow = view.direction === 'send' ? `→ ${peerName}` : `← ${peerName}`;
    this.#bar = el('progress', { max: view.size, value: 0 });
    this.#status = el('span', { class: 'status' });
    this.node = el(
      'li',
      { class: 'transfer', 'data-direction': view.direction },
      el('span', { class: 'name' }, `${view.name} (${formatBytes(view.size)}) ${arrow}`),
      this.#bar,
      this.#status,
    );
    this.progress();
  }

  progress(): void {
    const v = this.view;
    this.#bar.value = v.bytes;
    let status = `${Math.floor((100 * v.bytes) / Math.max(1, v.size))}%`;
    if (v.verified === true) status = 'checksum ok';
    else if (v.verified === false) status = 'checksum MISMATCH';
    else if (v.done) status = v.direction === 'send' ? 'sent, verifying…' : 'verifying…';
    this.#status.textContent = status;
    if (v.verified !== undefined) this.node.dataset.verified = String(v.verified);
  }

  offerDownload(blob: Blob): void {
    const link = el('a', { href: URL.createObjectURL(blob), download: this.view.name }, 'save');
    this.node.append(link);
  }
}

/** A peer's header is network input: check its fields before they reach the page. */
function validHeader(h: Extract<Control, { t: 'file' }>): boolean {
  return (
    typeof h.id === 'string' &&
    typeof h.name === 'string' &&
    typeof h.mime === 'string' &&
    typeof h.sha256 === 'string' &&
    /^[0-9a-f]{64}$/.test(h.sha256) &&
    Number.isSafeInteger(h.size) &&
    h.size >= 0 &&
    h.size <= MAX_FILE_BYTES
  );
}

function drained(channel: RTCDataChannel): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      channel.removeEventListener('bufferedamountlow', done);
      channel.removeEventListener('close', done);
      resolve();
    };
    channel.addEventListener('bufferedamountlow', done);
    channel.addEventListener('close', done);
  });
}
