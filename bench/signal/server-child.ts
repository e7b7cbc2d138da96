/**
 * A signaling server in its own process for bench/signal.ts, so that its memory and CPU are
 * its own: `rtcd` (SignalServer, limits raised for load, optional Redis) or `bare` (the
 * ceiling: a WebSocket relay in a few lines that parses each message for its `to` and
 * forwards the text). Talks to the parent over IPC: sends `{port}` once listening, answers
 * `'stats'` with memory after a GC, exits on `'close'`.
 */
import { WebSocket, WebSocketServer } from 'ws';
import { RedisStore } from '../../lib/signal/redis-store.js';
import { SignalServer } from '../../lib/signal/server.js';

export interface ServerChildConfig {
  kind: 'rtcd' | 'bare';
  redis?: string;
  prefix?: string;
}

const config = JSON.parse(process.argv[2] ?? '{}') as ServerChildConfig;

function send(m: object): void {
  process.send?.(m);
}

async function startRtcd(): Promise<() => Promise<void>> {
  const store =
    config.redis === undefined
      ? undefined
      : new RedisStore({ url: config.redis, prefix: config.prefix ?? 'bench:' });
  const server = new SignalServer({
    listen: { host: '127.0.0.1', port: 0 },
    noAuth: true,
    webRoot: false,
    // Load comes from one address at rates no browser sends: lift the per-client limits.
    maxConnectionsPerIp: 1_000_000,
    maxConnections: 1_000_000,
    maxRooms: 100_000,
    messagesPerSecond: 1_000_000,
    messageBurst: 1_000_000,
    heartbeatIntervalMs: 30_000,
    ...(store ? { store } : {}),
  });
  const { port } = await server.listen();
  send({ port });
  return () => server.close();
}

/** The ceiling: what any relay must do at least (parse for the address, look up, send). */
async function startBare(): Promise<() => Promise<void>> {
  const peers = new Map<string, WebSocket>();
  let next = 0;
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  wss.on('connection', (ws) => {
    const id = `b${next++}`;
    peers.set(id, ws);
    ws.send(JSON.stringify({ type: 'joined', peerId: id }));
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as { to?: string };
      const to = m.to === undefined ? undefined : peers.get(m.to);
      if (to?.readyState === WebSocket.OPEN) to.send(String(data));
    });
    ws.on('close', () => peers.delete(id));
  });
  await new Promise((resolve) => wss.once('listening', resolve));
  send({ port: (wss.address() as { port: number }).port });
  return () => new Promise((resolve) => wss.close(() => resolve()));
}

const close = await (config.kind === 'bare' ? startBare() : startRtcd());
process.on('message', (m) => {
  if (m === 'stats') {
    globalThis.gc?.();
    const mem = process.memoryUsage();
    send({ rss: mem.rss, heapUsed: mem.heapUsed, external: mem.external });
  } else if (m === 'close') {
    close().finally(() => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));
