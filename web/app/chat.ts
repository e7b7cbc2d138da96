/**
 * Text chat over the negotiated `chat` data channel, which also carries the page's small
 * control messages (which stream is a screen share).
 */
import { byId, el } from './dom.js';
import type { ChatLine } from './test-state.js';

type ChatMessage = { t: 'chat'; text: string } | { t: 'screen'; streamId: string; on: boolean };

export interface ChatHooks {
  screen(peerId: string, streamId: string, on: boolean): void;
  /** A channel to a peer opened: tell the newcomer what we are already sharing. */
  opened(peerId: string): void;
}

export class Chat {
  readonly lines: ChatLine[] = [];
  readonly #channels = new Map<string, RTCDataChannel>();
  readonly #list = byId<HTMLOListElement>('messages');

  constructor(private readonly hooks: ChatHooks) {}

  attach(peerId: string, channel: RTCDataChannel): void {
    this.#channels.set(peerId, channel);
    channel.addEventListener('message', (e) => this.#onMessage(peerId, e.data));
    if (channel.readyState === 'open') this.hooks.opened(peerId);
    else channel.addEventListener('open', () => this.hooks.opened(peerId));
  }

  detach(peerId: string): void {
    this.#channels.delete(peerId);
  }

  /** Sends to everyone; returns how many peers it went to. */
  say(text: string): number {
    const sent = this.#broadcast({ t: 'chat', text });
    this.#show('me', text);
    return sent;
  }

  announceScreen(streamId: string, on: boolean, to?: string): void {
    const message: ChatMessage = { t: 'screen', streamId, on };
    if (to === undefined) this.#broadcast(message);
    else this.#sendTo(to, message);
  }

  #broadcast(message: ChatMessage): number {
    let sent = 0;
    for (const peerId of this.#channels.keys()) if (this.#sendTo(peerId, message)) sent++;
    return sent;
  }

  #sendTo(peerId: string, message: ChatMessage): boolean {
    const channel = this.#channels.get(peerId);
    if (channel?.readyState !== 'open') return false;
    channel.send(JSON.stringify(message));
    return true;
  }

  #onMessage(peerId: string, data: unknown): void {
    if (typeof data !== 'string') return;
    let message: ChatMessage;
    try {
      message = JSON.parse(data) as ChatMessage;
    } catch {
      return;
    }
    if (message.t === 'chat' && typeof message.text === 'string') this.#show(peerId, message.text);
    if (message.t === 'screen' && typeof message.streamId === 'string') {
      this.hooks.screen(peerId, message.streamId, message.on === true);
    }
  }

  #show(from: string, text: string): void {
    this.lines.push({ from, text });
    const line = el('li', { class: from === 'me' ? 'me' : 'them' }, el('b', {}, from), ' ', text);
    this.#list.append(line);
    line.scrollIntoView({ block: 'end' });
  }
}
