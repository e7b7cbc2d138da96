/**
 * Child of spec/turn/udp-fast-send.spec.ts, run by a Node with dgram reusePort (>= 22.12)
 * with argv[2] = fastUdpSend ('true' | 'false'): a UdpListener with reusePort gives a client
 * its own connected socket (udp-client-socket.ts); what the listener then sends to that
 * client — one buffer, [head, body], [head, body, padding] — is printed as JSON with what
 * should have arrived.
 */
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { type UdpClient, UdpListener } from '../../lib/turn/udp-listener.js';

const fast = process.argv[2] !== 'false';
let client: UdpClient | undefined;
const listener = new UdpListener(
  { host: '127.0.0.1', port: 0 },
  true,
  {
    packet: (c) => {
      client = c;
      listener.remember(c);
    },
    error: (e) => process.stderr.write(`listener error: ${e.message}\n`),
  },
  undefined,
  fast,
);
const local = await listener.start();
const rx = createSocket('udp4');
rx.bind(0, '127.0.0.1');
await once(rx, 'listening');
rx.send(Buffer.from('hello'), local.port, '127.0.0.1');
const deadline = Date.now() + 5000;
while (client?.connected === undefined && Date.now() < deadline) {
  await new Promise((r) => setTimeout(r, 10));
}
const c = client;
const got: string[] = [];
const want: string[] = [];
if (c?.connected !== undefined) {
  const arrived = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 3000);
    rx.on('message', (m) => {
      got.push(m.toString('hex'));
      if (got.length === want.length) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  for (const size of [1, 2, 3, 4, 5, 1200]) {
    const head = Buffer.from([0x40, 0x00, size >> 8, size & 0xff]);
    const body = Buffer.alloc(size, size);
    const padding = (4 - (size & 3)) & 3;
    listener.send(c, head);
    want.push(head.toString('hex'));
    listener.send(c, head, body);
    want.push(Buffer.concat([head, body]).toString('hex'));
    listener.send(c, head, body, padding);
    want.push(Buffer.concat([head, body, Buffer.alloc(padding)]).toString('hex'));
  }
  await arrived;
}
process.stdout.write(
  JSON.stringify({
    connected: c?.connected !== undefined,
    fast: c?.connected?.fast ?? false,
    failed: (c?.connected?.failed ?? 0) + listener.sender.failed,
    got,
    want,
  }),
);
rx.close();
await listener.close();
