/**
 * A small client of Janus's HTTP API (janus.transport.http, the "Janus API" over REST) for the
 * SFU bench's Janus rows: one session, handles attached to janus.plugin.videoroom, requests
 * that answer at once (`success`) or later as an `event` carrying the same transaction, read
 * by one long poll (`GET /janus/<session>?maxev=N`) per session.
 */
import { randomBytes } from 'node:crypto';

export interface Jsep {
  type: 'offer' | 'answer';
  sdp: string;
}

/** A plugin's reply: its `plugindata.data` and the JSEP that came with it, if any. */
export interface PluginReply {
  data: Record<string, unknown>;
  jsep: Jsep | undefined;
}

interface Waiter {
  resolve(r: PluginReply): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

const EVENT_TIMEOUT_MS = 30_000;

function record(x: unknown): Record<string, unknown> {
  return typeof x === 'object' && x !== null ? (x as Record<string, unknown>) : {};
}

function jsepOf(x: unknown): Jsep | undefined {
  const j = record(x);
  const type = j.type;
  return (type === 'offer' || type === 'answer') && typeof j.sdp === 'string'
    ? { type, sdp: j.sdp }
    : undefined;
}

function pluginReply(m: Record<string, unknown>): PluginReply {
  return { data: record(record(m.plugindata).data), jsep: jsepOf(m.jsep) };
}

/** Throws when the plugin answered with `error_code` (VideoRoom's errors). */
function checked(r: PluginReply, what: string): PluginReply {
  if (r.data.error_code !== undefined) {
    throw new Error(`janus ${what}: ${String(r.data.error_code)} ${String(r.data.error)}`);
  }
  return r;
}

export class JanusSession {
  private readonly waiters = new Map<string, Waiter>();
  private polling = true;
  private readonly poll: Promise<void>;

  private constructor(
    readonly url: string,
    readonly id: number,
  ) {
    this.poll = this.pollLoop();
  }

  /** `POST /janus {create}`: a session with no timeout of its own (the config sets 0). */
  static async create(url: string): Promise<JanusSession> {
    const m = await post(url, { janus: 'create' });
    const id = record(m.data).id;
    if (typeof id !== 'number') throw new Error(`janus create: ${JSON.stringify(m)}`);
    return new JanusSession(url, id);
  }

  /** Attaches a VideoRoom handle; resolves with its id. */
  async attach(): Promise<number> {
    const m = await post(`${this.url}/${this.id}`, {
      janus: 'attach',
      plugin: 'janus.plugin.videoroom',
    });
    const id = record(m.data).id;
    if (typeof id !== 'number') throw new Error(`janus attach: ${JSON.stringify(m)}`);
    return id;
  }

  /**
   * Sends `body` (and `jsep`) to the plugin on `handle`; resolves with the plugin's reply,
   * whether it came in the response (`success`) or later as an event (`ack` first).
   */
  async message(handle: number, body: Record<string, unknown>, jsep?: Jsep): Promise<PluginReply> {
    const transaction = randomBytes(9).toString('base64url');
    const later = new Promise<PluginReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(transaction);
        reject(new Error(`janus ${String(body.request)}: no event in ${EVENT_TIMEOUT_MS} ms`));
      }, EVENT_TIMEOUT_MS);
      this.waiters.set(transaction, { resolve, reject, timer });
    });
    let m: Record<string, unknown>;
    try {
      m = await post(
        `${this.url}/${this.id}/${handle}`,
        { janus: 'message', body, ...(jsep ? { jsep } : {}) },
        transaction,
      );
    } catch (err) {
      this.settle(transaction);
      throw err;
    }
    if (m.janus === 'success') {
      this.settle(transaction);
      return checked(pluginReply(m), String(body.request));
    }
    if (m.janus !== 'ack') {
      this.settle(transaction);
      throw new Error(`janus ${String(body.request)}: ${JSON.stringify(m)}`);
    }
    return checked(await later, String(body.request));
  }

  /** Stops the long poll and destroys the session (its handles and PeerConnections go too). */
  async destroy(): Promise<void> {
    this.polling = false;
    await post(`${this.url}/${this.id}`, { janus: 'destroy' }).catch(() => {});
    await this.poll;
    for (const t of [...this.waiters.keys()]) this.settle(t, new Error('session destroyed'));
  }

  private settle(transaction: string, err?: Error): Waiter | undefined {
    const w = this.waiters.get(transaction);
    if (!w) return undefined;
    this.waiters.delete(transaction);
    clearTimeout(w.timer);
    if (err) w.reject(err);
    return w;
  }

  private async pollLoop(): Promise<void> {
    while (this.polling) {
      let events: unknown;
      try {
        const res = await fetch(`${this.url}/${this.id}?maxev=100&rid=${Date.now()}`);
        events = await res.json();
      } catch {
        if (this.polling) await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      for (const e of Array.isArray(events) ? events : [events]) {
        const m = record(e);
        if (m.janus !== 'event' || typeof m.transaction !== 'string') continue;
        this.settle(m.transaction)?.resolve(pluginReply(m));
      }
    }
  }
}

async function post(
  url: string,
  body: Record<string, unknown>,
  transaction = randomBytes(9).toString('base64url'),
): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, transaction }),
  });
  const m = record(await res.json());
  if (m.janus === 'error') throw new Error(`janus ${String(body.janus)}: ${JSON.stringify(m)}`);
  return m;
}
