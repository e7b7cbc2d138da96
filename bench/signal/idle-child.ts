/**
 * Holds idle WebSocket clients for bench/signal.ts: `count` connections to `url`, each joining
 * room `<prefix><i / 2>` (two peers a room, as calls are), opened `concurrency` at a time.
 * Sends `{ready, failed}` to the parent when all are joined; closes them on `'close'`.
 */
import WebSocket from 'ws';

const { url, count, prefix, concurrency } = JSON.parse(process.argv[2] ?? '{}') as {
  url: string;
  count: number;
  prefix: string;
  concurrency: number;
};

const sockets: WebSocket[] = [];
let failed = 0;

function open(i: number): Promise<void> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    sockets.push(ws);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'join', room: `${prefix}${i >> 1}` })));
    ws.on('message', (data) => {
      if (String(data).startsWith('{"type":"joined"')) resolve();
    });
    ws.on('error', () => {
      failed++;
      resolve();
    });
  });
}

let nextIndex = 0;
async function worker(): Promise<void> {
  while (nextIndex < count) await open(nextIndex++);
}
await Promise.all(Array.from({ length: concurrency }, worker));
process.send?.({ ready: count - failed, failed });
process.on('message', (m) => {
  if (m !== 'close') return;
  for (const ws of sockets) ws.terminate();
  process.exit(0);
});
process.on('disconnect', () => process.exit(0));
