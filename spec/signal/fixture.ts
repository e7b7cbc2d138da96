/**
 * Test fixtures for lib/signal: a SignalServer on 127.0.0.1 port 0, and a WebSocket client
 * that queues what it receives so a test can await the next message of a type.
 */
import WebSocket from 'ws';
import type { SignalServerOptions } from '../../lib/signal/options.js';
import { SignalServer } from '../../lib/signal/server.js';

export type Frame = Record<string, unknown> & { type: string };

export async function startSignal(
  o: Partial<SignalServerOptions> = {},
): Promise<{ server: SignalServer; url: string; http: string }> {
  const server = new SignalServer({
    listen: { host: '127.0.0.1', port: 0 },
    noAuth: o.jwtSecret === undefined && o.jwksUrl === undefined,
    webRoot: false,
    drainTimeoutMs: 500,
    ...o,
  });
  const { port } = await server.listen();
  return { server, url: `ws://127.0.0.1:${port}/ws`, http: `http://127.0.0.1:${port}` };
}

export class TestClient {
  readonly ws: WebSocket;
  readonly frames: Frame[] = [];
  private waiters: { type: string; resolve: (f: Frame) => void }[] = [];
  closeCode: number | undefined;
  readonly closed: Promise<number>;
  readonly opened: Promise<void>;

  constructor(url: string, options: WebSocket.ClientOptions = {}) {
    this.ws = new WebSocket(url, options);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.closed = new Promise((resolve) => {
      this.ws.once('close', (code) => {
        this.closeCode = code;
        resolve(code);
      });
    });
    this.ws.on('message', (data) => {
      const f = JSON.parse(String(data)) as Frame;
      const i = this.waiters.findIndex((w) => w.type === f.type || w.type === '*');
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(f);
      else this.frames.push(f);
    });
    this.ws.on('error', () => {});
  }

  static async open(url: string, options: WebSocket.ClientOptions = {}): Promise<TestClient> {
    const c = new TestClient(url, options);
    await c.opened;
    return c;
  }

  send(m: unknown): void {
    this.ws.send(typeof m === 'string' ? m : JSON.stringify(m));
  }

  /** The next frame of `type` (`*`: any), already received or yet to come. */
  next(type: string, timeoutMs = 3000): Promise<Frame> {
    const i = this.frames.findIndex((f) => f.type === type || type === '*');
    if (i >= 0) return Promise.resolve(this.frames.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const waiter = {
        type,
        resolve: (f: Frame) => {
          clearTimeout(timer);
          resolve(f);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(
          new Error(`no "${type}" within ${timeoutMs} ms; got ${JSON.stringify(this.frames)}`),
        );
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  async join(room: string, extra: Record<string, unknown> = {}): Promise<Frame> {
    this.send({ type: 'join', room, ...extra });
    return this.next('joined');
  }

  close(): void {
    this.ws.close();
  }
}

export async function joined(url: string, room: string): Promise<[TestClient, Frame]> {
  const c = await TestClient.open(url);
  return [c, await c.join(room)];
}
