import { execFile } from 'node:child_process';
import { createSocket, type RemoteInfo, Socket } from 'node:dgram';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { reusePortSupported } from '../../lib/cli/platform.js';
import { AttributeType, decodeStunMessage, StunClass, StunMethod } from '../../lib/stun/index.js';
import type { TransportAddress } from '../../lib/stun/transport-address.js';
import { TurnClient } from '../../lib/turn/client.js';
import { bindRelay } from '../../lib/turn/relay-socket.js';
import { resolveTurnOptions } from '../../lib/turn/resolve-options.js';
import { UdpListener } from '../../lib/turn/udp-listener.js';
import { nextData, PASSWORD, Peer, startServer, USER } from './server-fixture.js';

/**
 * TurnServerOptions.fastUdpSend: relayed UDP datagrams leave through the socket's handle
 * (lib/util/udp-send.ts) or, with `false`, through `socket.send` — with the same bytes on the
 * wire either way (RFC 8656 §12.5 ChannelData, unpadded over UDP; §10.3 Data indications,
 * their DATA padded to 4 bytes, RFC 8489 §14).
 */

const SIZES = [1, 2, 3, 4, 5, 7, 1200, 1201];

t.test('fastUdpSend defaults to true; false is kept', async (t) => {
  t.equal(resolveTurnOptions({}).fastUdpSend, true);
  t.equal(resolveTurnOptions({ fastUdpSend: false }).fastUdpSend, false);
});

t.test('the listener and relay sockets send through the handle unless told not to', async (t) => {
  for (const fast of [true, false]) {
    const handlers = { packet: () => {}, error: () => {} };
    const listener = new UdpListener(
      { host: '127.0.0.1', port: 0 },
      false,
      handlers,
      undefined,
      fast,
    );
    await listener.start();
    t.equal(listener.sender.fast, fast, `listener, fastUdpSend: ${fast}`);
    await listener.close();
    const bound = await bindRelay({
      family: 4,
      ip: '127.0.0.1',
      externalIp: undefined,
      minPort: 41000,
      maxPort: 41999,
      evenPort: false,
      reserveNext: false,
      fastUdpSend: fast,
    });
    if (!bound.ok) throw new Error(`bind failed: ${bound.reason}`);
    t.equal(bound.relay.sender.fast, fast, `relay socket, fastUdpSend: ${fast}`);
    bound.relay.close();
  }
});

/** A UDP hop between the client and the server that records what the server sends. */
class WireTap {
  readonly socket = createSocket('udp4');
  readonly fromServer: Buffer[] = [];
  private client: RemoteInfo | undefined;
  private waiting: ((b: Buffer) => void) | undefined;

  constructor(server: TransportAddress) {
    this.socket.on('message', (m, rinfo) => {
      if (rinfo.port === server.port && rinfo.address === server.address) {
        if (this.client) this.socket.send(m, this.client.port, this.client.address);
        const w = this.waiting;
        this.waiting = undefined;
        if (w) w(m);
        else this.fromServer.push(m);
        return;
      }
      this.client = rinfo;
      this.socket.send(m, server.port, server.address);
    });
  }

  async open(): Promise<number> {
    this.socket.bind(0, '127.0.0.1');
    await once(this.socket, 'listening');
    return this.socket.address().port;
  }

  /** The next datagram from the server that `keep` accepts (others are skipped). */
  async next(keep: (b: Buffer) => boolean): Promise<Buffer> {
    for (;;) {
      const b =
        this.fromServer.shift() ??
        (await new Promise<Buffer>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('nothing from the server')), 3000);
          this.waiting = (m) => {
            clearTimeout(timer);
            resolve(m);
          };
        }));
      if (keep(b)) return b;
    }
  }
}

const isChannelData = (b: Buffer) => b[0]! >= 0x40 && b[0]! <= 0x4f;

/** A Data indication's DATA, the padding after it and whether the whole is 4-aligned. */
function dataIndication(
  b: Buffer,
): { data: Buffer; padding: Buffer; aligned: boolean } | undefined {
  const r = decodeStunMessage(b);
  if (!r.ok) return undefined;
  const m = r.message;
  if (m.messageClass !== StunClass.indication || m.method !== StunMethod.data) return undefined;
  const a = m.get(AttributeType.DATA);
  if (!a) return undefined;
  const end = a.offset + a.length;
  return {
    data: b.subarray(a.offset, end),
    padding: b.subarray(end, a.offset + ((a.length + 3) & ~3)),
    aligned: b.length % 4 === 0,
  };
}

/** Which sockets called socket.send, by local port (the spy still sends). */
function spyOnSocketSend(t: Test): Set<number> {
  const ports = new Set<number>();
  const original = Socket.prototype.send;
  Socket.prototype.send = function (this: Socket, ...args: Parameters<Socket['send']>) {
    try {
      ports.add(this.address().port);
    } catch {
      // not bound yet
    }
    return Reflect.apply(original, this, args);
  } as Socket['send'];
  t.teardown(() => {
    Socket.prototype.send = original;
  });
  return ports;
}

const wire: Record<string, string[]> = {};

for (const fast of [true, false]) {
  t.test(`relaying with fastUdpSend: ${fast} puts the same bytes on the wire`, async (t) => {
    const { server } = await startServer({ fastUdpSend: fast });
    t.teardown(() => server.close());
    const listen = server.addresses.udp[0]!;
    const tap = new WireTap({ family: 4, address: listen.host, port: listen.port });
    const tapPort = await tap.open();
    t.teardown(() => tap.socket.close());
    const peer = await Peer.open();
    t.teardown(() => peer.close());
    const viaTap = await TurnClient.connect({
      server: { host: '127.0.0.1', port: tapPort },
      username: USER,
      password: PASSWORD,
      localAddress: '127.0.0.1',
      rtoMs: 100,
      closeTimeoutMs: 300,
    });
    t.teardown(() => viaTap.close());
    const { relayed } = await viaTap.allocate();
    await viaTap.createPermission([peer.address]);
    const sends = spyOnSocketSend(t);
    const seen: string[] = [];

    // Send and Data indications (no channel yet): the relay sends from a subarray of the
    // client's datagram; the listener sends [head, DATA, padding] as one datagram.
    for (const size of SIZES) {
      const payload = Buffer.alloc(size, 0x80 + size);
      const toPeer = peer.receive();
      viaTap.send(peer.address, payload);
      const got = await toPeer;
      t.same(got.data, payload, `${size} B to the peer (Send indication)`);
      t.same(got.from, relayed, 'from the relayed address');
      const delivered = nextData(viaTap);
      peer.send(relayed, payload);
      const raw = await tap.next((b) => !isChannelData(b) && dataIndication(b) !== undefined);
      const ind = dataIndication(raw);
      t.same(ind?.data, payload, `${size} B in a Data indication`);
      t.same(ind?.padding, Buffer.alloc((4 - (size & 3)) & 3), 'DATA padded with zero bytes');
      t.ok(ind?.aligned, 'the indication is 4-byte aligned');
      t.same((await delivered).data, payload);
      seen.push(`indication ${raw.length} ${ind?.data.toString('hex')}`);
    }

    // ChannelData both ways: over UDP unpadded, exactly header + payload (§12.5).
    const channel = await viaTap.channelBind(peer.address);
    for (const size of SIZES) {
      const payload = Buffer.alloc(size, size);
      const toPeer = peer.receive();
      viaTap.send(peer.address, payload);
      t.same((await toPeer).data, payload, `${size} B to the peer (ChannelData)`);
      const delivered = nextData(viaTap);
      peer.send(relayed, payload);
      const raw = await tap.next(isChannelData);
      const head = Buffer.from([channel >> 8, channel & 0xff, size >> 8, size & 0xff]);
      t.same(raw, Buffer.concat([head, payload]), `${size} B as ChannelData, no padding`);
      t.same((await delivered).data, payload);
      seen.push(`channel ${raw.toString('hex')}`);
    }
    wire[String(fast)] = seen;

    const serverSockets = [listen.port, relayed.port];
    if (fast) {
      t.notOk(
        serverSockets.some((p) => sends.has(p)),
        'neither the listener nor the relay socket called socket.send',
      );
    } else {
      t.ok(
        serverSockets.every((p) => sends.has(p)),
        'the listener and the relay socket called socket.send',
      );
    }
  });
}

t.test('both settings relayed the same bytes', async (t) => {
  t.ok(wire.true?.length);
  t.same(wire.true, wire.false);
});

// ---- With reusePort (`rtcd turn --workers`): sends on a client's own connected socket ----

const NODE = process.env.RTCD_WORKERS_NODE || (reusePortSupported() ? process.execPath : undefined);

for (const fast of [true, false]) {
  t.test(
    `reusePort: a client's connected socket sends whole datagrams (fast: ${fast})`,
    async (t) => {
      t.ok(NODE, 'a node with reusePort (Node >= 22.12): set RTCD_WORKERS_NODE');
      if (!NODE) return;
      const child = fileURLToPath(new URL('./udp-fast-send-connected.ts', import.meta.url));
      const out = await new Promise<string>((resolve, reject) => {
        execFile(
          NODE,
          ['--import', 'tsx', child, String(fast)],
          { timeout: 30_000 },
          (err, stdout, stderr) =>
            err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
        );
      });
      const r = JSON.parse(out) as {
        connected: boolean;
        fast: boolean;
        failed: number;
        got: string[];
        want: string[];
      };
      t.ok(r.connected, 'the client got its connected socket');
      t.equal(r.fast, fast, 'its sender takes the handle path as asked');
      t.same(r.got, r.want, 'single buffers and [head, body, padding] lists arrive whole');
      t.equal(r.failed, 0);
    },
  );
}
