/**
 * ICE-TCP passive candidate of the lite mux (RFC 6544) with RFC 4571 framing: a raw TCP
 * client sends framed checks and packets, split and coalesced arbitrarily.
 */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import t from 'tap';
import { parseCandidate } from '../../lib/ice/candidate.js';
import type { IceLiteSession } from '../../lib/ice/lite-session.js';
import { buildCheckRequest, verifyCheckResponse } from '../../lib/ice/stun-check.js';
import { unmapIpv4Text } from '../../lib/ice/tcp-mux.js';
import { IceLiteMux } from '../../lib/ice/udp-mux.js';

t.setTimeout(60_000);

function frame(packet: Buffer): Buffer {
  const out = Buffer.alloc(2 + packet.length);
  out.writeUInt16BE(packet.length, 0);
  packet.copy(out, 2);
  return out;
}

function checkFor(s: IceLiteSession, useCandidate = false): Buffer {
  return buildCheckRequest({
    localUfrag: 'tcpPeer',
    remoteUfrag: s.localUfrag,
    remotePwd: s.localPwd,
    priority: 1,
    role: 'controlling',
    tieBreaker: 9n,
    useCandidate,
  });
}

/** A TCP client that reassembles RFC 4571 frames. */
async function client(
  port: number,
): Promise<{ socket: Socket; next(): Promise<Buffer>; closed: Promise<unknown> }> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let pending = Buffer.alloc(0);
  const frames: Buffer[] = [];
  const waiters: ((b: Buffer) => void)[] = [];
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
      const n = pending.readUInt16BE(0);
      const f = pending.subarray(2, 2 + n);
      pending = pending.subarray(2 + n);
      const w = waiters.shift();
      if (w) w(f);
      else frames.push(f);
    }
  });
  socket.on('error', () => {});
  return {
    socket,
    closed: once(socket, 'close'),
    next: () => {
      const f = frames.shift();
      if (f) return Promise.resolve(f);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no frame within 2 s')), 2000);
        waiters.push((x) => {
          clearTimeout(timer);
          resolve(x);
        });
      });
    },
  };
}

t.test(
  'RFC 6544: a framed check over TCP is answered, nominates, and media flows framed both ways',
  async (t) => {
    const mux = await IceLiteMux.bind({
      address: '127.0.0.1',
      tcpPort: 0,
      announcedAddress: '127.0.0.1',
    });
    t.teardown(() => mux.close());
    const tcp = mux.tcpAddress;
    if (tcp === undefined) throw t.fail('no TCP address');
    const cands = mux.candidates.map((c) => parseCandidate(c));
    t.match(cands[1], { transport: 'tcp', tcpType: 'passive', port: tcp.port, type: 'host' });
    t.ok((cands[0]?.priority ?? 0) > (cands[1]?.priority ?? 0), 'UDP is preferred (RFC 6544 §4.2)');
    const s = mux.createSession();
    const c = await client(tcp.port);
    t.teardown(() => c.socket.destroy());
    // The check split across two writes, then a DTLS record coalesced with a second check.
    const connected = once(s, 'connected');
    const first = frame(checkFor(s, true));
    c.socket.write(first.subarray(0, 5));
    await new Promise((r) => setTimeout(r, 20));
    c.socket.write(first.subarray(5));
    t.ok(verifyCheckResponse(await c.next(), s.localPwd), 'answered, framed');
    await connected;
    t.equal(s.transport, 'tcp');
    const got: string[] = [];
    s.on('data', (b, cls) => got.push(`${cls}:${b.toString('hex')}`));
    c.socket.write(
      Buffer.concat([
        frame(Buffer.from('16fefd00', 'hex')),
        frame(checkFor(s)),
        frame(Buffer.alloc(0)),
      ]),
    );
    t.ok(verifyCheckResponse(await c.next(), s.localPwd), 'the coalesced check too');
    t.same(got, ['dtls:16fefd00']);
    t.ok(s.send(Buffer.from('80000001', 'hex')));
    t.same(await c.next(), Buffer.from('80000001', 'hex'));
    const disconnected = once(s, 'disconnected');
    c.socket.destroy();
    await disconnected;
    t.equal(s.state, 'disconnected', 'the connection closing ends the pair');
    t.notOk(s.send(Buffer.from('80', 'hex')));
  },
);

t.test(
  'connections that do not authenticate are closed: non-STUN first, oversized frame, silence',
  async (t) => {
    const mux = await IceLiteMux.bind({
      address: '127.0.0.1',
      tcpPort: 0,
      tcpMaxFrameBytes: 600,
      tcpHandshakeTimeoutMs: 200,
    });
    t.teardown(() => mux.close());
    const port = mux.tcpAddress?.port ?? 0;
    const a = await client(port);
    a.socket.write(frame(Buffer.from('16fefd00', 'hex')));
    await a.closed;
    t.pass('DTLS before any check: closed');
    const b = await client(port);
    b.socket.write(Buffer.from([0x02, 0x59]));
    await b.closed;
    t.pass('a frame over tcpMaxFrameBytes: closed');
    const started = Date.now();
    const c = await client(port);
    await c.closed;
    t.ok(Date.now() - started >= 150, 'silence: closed after the handshake timeout');
    const s = mux.createSession();
    const d = await client(port);
    t.teardown(() => d.socket.destroy());
    d.socket.write(frame(checkFor(s)));
    t.ok(verifyCheckResponse(await d.next(), s.localPwd));
    await new Promise((r) => setTimeout(r, 350));
    t.equal(
      mux.tcpConnectionCount,
      1,
      'an authenticated connection outlives the handshake timeout',
    );
    t.equal(s.state, 'new', 'a check without USE-CANDIDATE does not nominate');
  },
);

t.test(
  'unauthenticated connections beyond tcpMaxPendingConnections are closed on accept',
  async (t) => {
    const mux = await IceLiteMux.bind({
      address: '127.0.0.1',
      tcpPort: 0,
      tcpMaxPendingConnections: 2,
    });
    t.teardown(() => mux.close());
    const port = mux.tcpAddress?.port ?? 0;
    const a = await client(port);
    const b = await client(port);
    t.teardown(() => {
      a.socket.destroy();
      b.socket.destroy();
    });
    const c = await client(port);
    await c.closed;
    t.pass('the third pending connection is closed');
    const s = mux.createSession();
    a.socket.write(frame(checkFor(s)));
    t.ok(verifyCheckResponse(await a.next(), s.localPwd), 'an authenticated one frees its slot');
    const d = await client(port);
    t.teardown(() => d.socket.destroy());
    d.socket.write(frame(checkFor(s)));
    t.ok(verifyCheckResponse(await d.next(), s.localPwd), 'so a new connection is accepted');
  },
);

t.test('IPv4 peers of a dual-stack socket are reported (and XOR-mapped) as IPv4', async (t) => {
  t.equal(unmapIpv4Text('::ffff:192.0.2.1'), '192.0.2.1');
  t.equal(unmapIpv4Text('::FFFF:10.0.0.7'), '10.0.0.7');
  t.equal(unmapIpv4Text('2001:db8::1'), undefined);
  t.equal(unmapIpv4Text('::ffff:c000:201'), undefined, 'hex form is not how Node reports it');
  t.equal(unmapIpv4Text('127.0.0.1'), undefined);
});
