/**
 * Relay measurements for bench/signal.ts, clients in this process: pairs of WebSocket clients
 * (A → B) through `rtcd signal` (join a room, offers addressed `to`) or the bare relay.
 * - `throughput`: a closed loop keeping `window` messages in flight per pair; messages/s.
 * - `latency`: an open loop at a fixed total rate; p50/p99 of send → receive (one clock).
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

export interface Pair {
  a: WebSocket;
  b: WebSocket;
  /** The id A addresses B by. */
  to: string;
  close(): void;
}

/** Padding that makes a message the size of a typical candidate or small SDP (~220 bytes). */
const PAD = 'x'.repeat(160);

/** Opens `url`; `joined` is the first `joined` (listened for before any message can come). */
async function opened(
  url: string,
): Promise<{ ws: WebSocket; joined: Promise<Record<string, unknown>> }> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const joined = nextJson(ws, 'joined');
  await new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', resolve);
  });
  return { ws, joined };
}

function nextJson(ws: WebSocket, type: string): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const on = (data: WebSocket.RawData) => {
      const m = JSON.parse(String(data)) as Record<string, unknown>;
      if (m.type !== type) return;
      ws.off('message', on);
      resolve(m);
    };
    ws.on('message', on);
  });
}

/** A on `urlA`, B on `urlB`, in one room (rtcd) or simply connected (bare). */
export async function connectPair(
  kind: 'rtcd' | 'bare',
  urlA: string,
  urlB: string,
  room: string,
): Promise<Pair> {
  const { ws: a, joined: ja } = await opened(urlA);
  const { ws: b, joined: jb } = await opened(urlB);
  let to: string;
  if (kind === 'bare') {
    await ja;
    to = (await jb).peerId as string;
  } else {
    a.send(JSON.stringify({ type: 'join', room }));
    await ja;
    const seen = nextJson(a, 'peer-joined');
    b.send(JSON.stringify({ type: 'join', room }));
    to = (await jb).peerId as string;
    await seen;
  }
  return {
    a,
    b,
    to,
    close() {
      a.terminate();
      b.terminate();
    },
  };
}

function message(to: string, t0: number): string {
  return `{"type":"offer","to":"${to}","sdp":"${t0} ${PAD}"}`;
}

/** Messages per second through all `pairs` with `window` in flight per pair, over `ms`. */
export async function throughput(pairs: Pair[], window: number, ms: number): Promise<number> {
  let received = 0;
  let inFlight = 0;
  let stop = false;
  const handlers: (() => void)[] = [];
  const start = performance.now();
  for (const p of pairs) {
    const text = message(p.to, 0);
    let mine = 0;
    const pump = () => {
      while (!stop && mine < window) {
        p.a.send(text);
        mine++;
        inFlight++;
      }
    };
    const on = () => {
      received++;
      mine--;
      inFlight--;
      pump();
    };
    p.b.on('message', on);
    handlers.push(on);
    pump();
  }
  await new Promise((r) => setTimeout(r, ms));
  stop = true;
  const counted = received;
  const elapsed = (performance.now() - start) / 1000;
  // What is still in flight arrives before the next measurement (or is lost: give up at 10 s).
  await until(() => inFlight === 0, 10_000);
  for (const [i, p] of pairs.entries()) p.b.off('message', handlers[i]!);
  return counted / elapsed;
}

async function until(done: () => boolean, ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (!done() && performance.now() < end) await new Promise((r) => setTimeout(r, 20));
}

export interface LatencyResult {
  sent: number;
  received: number;
  p50: number;
  p99: number;
  max: number;
}

/** Sends `rate` messages/s in total (spread over the pairs) for `ms`; latency in ms. */
export async function latency(pairs: Pair[], rate: number, ms: number): Promise<LatencyResult> {
  const samples: number[] = [];
  const handlers = pairs.map((p) => {
    const on = (data: WebSocket.RawData) => {
      const text = String(data);
      const i = text.indexOf('"sdp":"') + 7;
      samples.push(performance.now() - Number(text.slice(i, text.indexOf(' ', i))));
    };
    p.b.on('message', on);
    return on;
  });
  const tickMs = 5;
  const perTick = (rate * tickMs) / 1000;
  let sent = 0;
  let owed = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - start;
      if (elapsed >= ms) {
        clearInterval(timer);
        resolve();
        return;
      }
      // Catch up on late ticks so the offered rate holds.
      owed = (elapsed / tickMs + 1) * perTick - sent;
      for (; owed >= 1; owed--) {
        const p = pairs[sent % pairs.length]!;
        p.a.send(message(p.to, performance.now()));
        sent++;
      }
    }, tickMs);
  });
  await until(() => samples.length >= sent, 10_000);
  for (const [i, p] of pairs.entries()) p.b.off('message', handlers[i]!);
  samples.sort((x, y) => x - y);
  const q = (f: number) =>
    samples[Math.min(samples.length - 1, Math.floor(f * samples.length))] ?? NaN;
  return { sent, received: samples.length, p50: q(0.5), p99: q(0.99), max: samples.at(-1) ?? NaN };
}
