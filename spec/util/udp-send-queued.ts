/**
 * Child of spec/util/udp-send.spec.ts, run with `--test-udp-no-try-send --expose-gc`: every
 * send is queued by libuv. Sends buffers it drops at once (only the sender's request keeps
 * them), collects a GC between sends, and prints what arrived as JSON.
 */
import { createSocket } from 'node:dgram';
import { UdpSender } from '../../lib/util/udp-send.js';

const gc = Reflect.get(globalThis, 'gc') as () => void;
const rx = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
const tx = createSocket('udp4');
await new Promise<void>((ok) => rx.bind(0, '127.0.0.1', ok));
await new Promise<void>((ok) => tx.bind(0, '127.0.0.1', ok));
const sent = 200;
let intact = 0;
let got = 0;
const done = new Promise<void>((resolve) => {
  const timer = setTimeout(resolve, 10_000);
  rx.on('message', (m) => {
    const i = m.readUInt16BE(0);
    if (m.length === 600 && m.subarray(2).every((b) => b === (i & 0xff))) intact++;
    if (++got === sent) {
      clearTimeout(timer);
      resolve();
    }
  });
});
const sender = new UdpSender(tx);
for (let i = 0; i < sent; i++) {
  const b = Buffer.alloc(600, i & 0xff);
  b.writeUInt16BE(i, 0);
  sender.send(b, rx.address().port, '127.0.0.1');
  if (i % 20 === 0) gc();
}
await done;
process.stdout.write(JSON.stringify({ fast: sender.fast, queued: sender.queued, got, intact, sent }));
rx.close();
tx.close();
