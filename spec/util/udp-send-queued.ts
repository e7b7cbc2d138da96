/**
 * Child of spec/util/udp-send.spec.ts, run with `--test-udp-no-try-send --expose-gc`: every
 * send is queued by libuv. Sends buffers it drops at once (only the sender's request keeps
 * them), collects a GC between sends, and prints what arrived as JSON: single buffers, then
 * lists (`sendList`, `sendListConnected`) whose array the caller reuses.
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

// Lists: head, body and padding in ONE reused array (as the TURN listener sends ChannelData),
// every buffer dropped at once; half to an address, half on a connected socket.
const lrx = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
await new Promise<void>((ok) => lrx.bind(0, '127.0.0.1', ok));
const ctx = createSocket('udp4');
await new Promise<void>((ok) => ctx.bind(0, '127.0.0.1', ok));
await new Promise<void>((ok) => ctx.connect(lrx.address().port, '127.0.0.1', ok));
let listIntact = 0;
let listGot = 0;
const listDone = new Promise<void>((resolve) => {
  const timer = setTimeout(resolve, 10_000);
  lrx.on('message', (m) => {
    const i = m.readUInt16BE(0);
    const fill = i & 0xff;
    // 4-byte head (index, 0xabcd), 301-byte body, 3 zero bytes of padding.
    const ok =
      m.length === 308 &&
      m.readUInt16BE(2) === 0xabcd &&
      m.subarray(4, 305).every((b) => b === fill) &&
      m.subarray(305).every((b) => b === 0);
    if (ok) listIntact++;
    if (++listGot === sent) {
      clearTimeout(timer);
      resolve();
    }
  });
});
const listSender = new UdpSender(tx);
const connectedSender = new UdpSender(ctx);
const parts: Uint8Array[] = [];
for (let i = 0; i < sent; i++) {
  const h = Buffer.alloc(4);
  h.writeUInt16BE(i, 0);
  h.writeUInt16BE(0xabcd, 2);
  parts[0] = h;
  parts[1] = Buffer.alloc(301, i & 0xff);
  parts[2] = Buffer.alloc(3);
  if (i % 2 === 0) listSender.sendList(parts, 3, lrx.address().port, '127.0.0.1');
  else connectedSender.sendListConnected(parts, 3);
  parts[0] = parts[1] = parts[2] = Buffer.alloc(0); // the caller reuses its array at once
  if (i % 20 === 0) gc();
}
await listDone;
process.stdout.write(
  JSON.stringify({
    fast: sender.fast,
    queued: sender.queued,
    got,
    intact,
    sent,
    listQueued: listSender.queued + connectedSender.queued,
    listGot,
    listIntact,
  }),
);
rx.close();
tx.close();
lrx.close();
ctx.close();
