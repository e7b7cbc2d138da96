import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import t from 'tap';
import { parseCandidate } from '../../lib/ice/candidate.js';
import { IceLiteOptionsError } from '../../lib/ice/lite-options.js';
import type { IceLiteSession } from '../../lib/ice/lite-session.js';
import { buildCheckRequest, verifyCheckResponse } from '../../lib/ice/stun-check.js';
import { IceLiteMux } from '../../lib/ice/udp-mux.js';
import { decodeXorAddress } from '../../lib/stun/attributes/address.js';
import { AttributeType } from '../../lib/stun/constants.js';

/** A peer on 127.0.0.1 that sends checks and raw packets to the mux. */
async function peer(): Promise<{
  socket: Socket;
  port: number;
  next(): Promise<Buffer>;
  send(buf: Buffer, to: number): void;
  close(): void;
}> {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  const queue: Buffer[] = [];
  const waiters: ((b: Buffer) => void)[] = [];
  socket.on('message', (b) => {
    const w = waiters.shift();
    if (w) w(b);
    else queue.push(b);
  });
  return {
    socket,
    port: socket.address().port,
    next: () => {
      const b = queue.shift();
      if (b) return Promise.resolve(b);
      return new Promise<Buffer>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no packet within 2 s')), 2000);
        waiters.push((x) => {
          clearTimeout(timer);
          resolve(x);
        });
      });
    },
    send: (buf, to) => socket.send(buf, to, '127.0.0.1'),
    close: () => socket.close(),
  };
}

function checkFor(s: IceLiteSession, useCandidate = false, remoteUfrag = 'peer'): Buffer {
  return buildCheckRequest({
    localUfrag: remoteUfrag,
    remoteUfrag: s.localUfrag,
    remotePwd: s.localPwd,
    priority: 1862270975,
    role: 'controlling',
    tieBreaker: 7n,
    useCandidate,
  });
}

t.setTimeout(60_000);

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test(
  'a check on the shared port is answered and nominates; DTLS/SRTP then flow both ways',
  async (t) => {
    const mux = await IceLiteMux.bind({ address: '127.0.0.1' });
    t.teardown(() => mux.close());
    const p = await peer();
    t.teardown(() => p.close());
    const s = mux.createSession();
    t.match(s.localUfrag, /^[A-Za-z0-9+/]{8}$/);
    t.match(s.localPwd, /^[A-Za-z0-9+/]{24}$/);
    const connected = once(s, 'connected');
    p.send(checkFor(s, true), mux.address.port);
    const res = verifyCheckResponse(await p.next(), s.localPwd);
    if (res === undefined) throw t.fail('no valid response');
    const x = res.get(AttributeType.XOR_MAPPED_ADDRESS);
    t.same(x && decodeXorAddress(res, x), { family: 4, address: '127.0.0.1', port: p.port });
    const [remote] = await connected;
    t.same(remote, { family: 4, address: '127.0.0.1', port: p.port });
    t.equal(s.state, 'connected');
    t.same(s.remoteAddress, remote);

    const dtls = Buffer.from('16fefd0000000000000000000100', 'hex');
    const data = once(s, 'data');
    p.send(dtls, mux.address.port);
    const [pkt, cls] = await data;
    t.same(pkt, dtls);
    t.equal(cls, 'dtls');
    t.ok(s.send(Buffer.from('80600001', 'hex')));
    t.same(await p.next(), Buffer.from('80600001', 'hex'));
    t.match(mux.counters(), { checksAnswered: 1, delivered: 1, sent: 1, connectedSessions: 1 });
  },
);

t.test('two sessions on one port are kept apart by ufrag, then by remote address', async (t) => {
  const mux = await IceLiteMux.bind({ address: '127.0.0.1' });
  t.teardown(() => mux.close());
  const [p1, p2, stranger] = await Promise.all([peer(), peer(), peer()]);
  t.teardown(() => {
    for (const p of [p1, p2, stranger]) p.close();
  });
  const s1 = mux.createSession({ localUfrag: 'sessionOne' });
  const s2 = mux.createSession({ localUfrag: 'sessionTwo', localPwd: 'aPasswordOf22CharsXYZ1' });
  const got: string[] = [];
  s1.on('data', (b) => got.push(`s1:${b.toString('hex')}`));
  s2.on('data', (b) => got.push(`s2:${b.toString('hex')}`));
  p1.send(checkFor(s1, true), mux.address.port);
  p2.send(checkFor(s2, true), mux.address.port);
  t.ok(verifyCheckResponse(await p1.next(), s1.localPwd));
  t.ok(verifyCheckResponse(await p2.next(), s2.localPwd));
  p1.send(Buffer.from('8001', 'hex'), mux.address.port);
  p2.send(Buffer.from('8002', 'hex'), mux.address.port);
  stranger.send(Buffer.from('8003', 'hex'), mux.address.port);
  stranger.send(Buffer.from('ff', 'hex'), mux.address.port);
  await wait(100);
  t.same(got.sort(), ['s1:8001', 's2:8002']);
  t.match(mux.counters().drops, { 'unknown-remote': 1, 'unknown-class': 1 });
  t.throws(() => mux.createSession({ localUfrag: 'sessionOne' }), IceLiteOptionsError);
  t.throws(() => mux.createSession({ localPwd: 'short' }), { code: 'ICE_LITE_BAD_OPTION' });
  t.throws(() => mux.createSession({ localUfrag: 'bad ufrag' }), IceLiteOptionsError);
});

t.test('bad checks are counted; unknown ufrags get no answer', async (t) => {
  const mux = await IceLiteMux.bind({ address: '127.0.0.1' });
  t.teardown(() => mux.close());
  const p = await peer();
  t.teardown(() => p.close());
  const s = mux.createSession();
  p.send(
    buildCheckRequest({
      localUfrag: 'peer',
      remoteUfrag: 'nobodyHere',
      remotePwd: s.localPwd,
      priority: 1,
      role: 'controlling',
      tieBreaker: 1n,
    }),
    mux.address.port,
  );
  p.send(
    buildCheckRequest({
      localUfrag: 'peer',
      remoteUfrag: s.localUfrag,
      remotePwd: 'not-the-password-at-all',
      priority: 1,
      role: 'controlling',
      tieBreaker: 1n,
    }),
    mux.address.port,
  );
  const reply = await p.next();
  t.equal(reply.readUInt16BE(0), 0x0111, 'only the bad-integrity check is answered (error)');
  p.send(checkFor(s).subarray(0, 44), mux.address.port);
  await wait(100);
  t.match(mux.counters(), {
    stunReceived: 3,
    errorsSent: 1,
    drops: { 'unknown-ufrag': 1, 'bad-integrity': 1, malformed: 1 },
  });
  t.equal(s.state, 'new');
});

t.test('RFC 7675: consent ends when checks stop, and the session stops sending', async (t) => {
  const mux = await IceLiteMux.bind({
    address: '127.0.0.1',
    consentTimeoutMs: 150,
    sweepIntervalMs: 20,
  });
  t.teardown(() => mux.close());
  const p = await peer();
  t.teardown(() => p.close());
  const s = mux.createSession();
  p.send(checkFor(s, true), mux.address.port);
  await once(s, 'connected');
  await p.next();
  const started = Date.now();
  await once(s, 'disconnected');
  t.ok(Date.now() - started >= 100, 'not before the timeout');
  t.equal(s.state, 'disconnected');
  t.notOk(s.send(Buffer.from('80', 'hex')), 'no sending without consent');
  p.send(Buffer.from('8004', 'hex'), mux.address.port);
  p.send(checkFor(s), mux.address.port);
  await once(s, 'connected');
  t.equal(mux.counters().connectedSessions, 1);
});

t.test('close: sessions emit closed once, the mux stops answering', async (t) => {
  const mux = await IceLiteMux.bind({ address: '127.0.0.1', announcedAddress: ['127.0.0.1'] });
  const s = mux.createSession();
  const c = parseCandidate(mux.candidates[0]!);
  t.match(c, { type: 'host', transport: 'udp', address: '127.0.0.1', port: mux.address.port });
  let closed = 0;
  s.on('closed', () => closed++);
  s.close();
  s.close();
  t.equal(closed, 1);
  t.equal(mux.sessionCount, 0);
  const s2 = mux.createSession();
  s2.on('closed', () => closed++);
  s2.on('connected', () => {
    throw new Error('listener bug');
  });
  await mux.close();
  await mux.close();
  t.equal(closed, 2);
  t.throws(() => mux.createSession(), IceLiteOptionsError);
});

t.test('a listener that throws does not break the mux', async (t) => {
  const mux = await IceLiteMux.bind({ address: '127.0.0.1' });
  t.teardown(() => mux.close());
  const p = await peer();
  t.teardown(() => p.close());
  const s = mux.createSession();
  s.on('connected', () => {
    throw new Error('listener bug');
  });
  p.send(checkFor(s, true), mux.address.port);
  t.ok(verifyCheckResponse(await p.next(), s.localPwd));
  await wait(20);
  t.equal(s.state, 'connected');
  p.send(checkFor(s), mux.address.port);
  t.ok(verifyCheckResponse(await p.next(), s.localPwd), 'still answering');
});

t.test('options are validated once, with the option named', async (t) => {
  await t.rejects(IceLiteMux.bind({ port: 70000 }), {
    code: 'ICE_LITE_BAD_OPTION',
    option: 'port',
  });
  await t.rejects(IceLiteMux.bind({ address: 'localhost' }), {
    code: 'ICE_LITE_BAD_OPTION',
    option: 'address',
  });
  await t.rejects(IceLiteMux.bind({ consentTimeoutMs: 0 }), {
    code: 'ICE_LITE_BAD_OPTION',
    option: 'consentTimeoutMs',
  });
  const wildcard = await IceLiteMux.bind({});
  t.same(wildcard.candidates, [], 'a wildcard bind announces nothing by itself');
  await wildcard.close();
});

t.test(
  'a flood of checks for unknown ufrags from many ports: no answer, no per-sender state',
  async (t) => {
    const mux = await IceLiteMux.bind({ address: '127.0.0.1' });
    t.teardown(() => mux.close());
    const s = mux.createSession();
    const senders = await Promise.all(Array.from({ length: 40 }, () => peer()));
    t.teardown(() => {
      for (const p of senders) p.close();
    });
    let answers = 0;
    for (const p of senders) p.socket.on('message', () => answers++);
    const PER_SENDER = 250;
    for (let i = 0; i < PER_SENDER; i++) {
      for (const [j, p] of senders.entries()) {
        const check = buildCheckRequest({
          localUfrag: 'flood',
          remoteUfrag: `x${(i * 64 + j).toString(36).padStart(7, '0')}`,
          remotePwd: s.localPwd,
          priority: 1,
          role: 'controlling',
          tieBreaker: 1n,
          useCandidate: true,
        });
        p.send(check, mux.address.port);
      }
      await wait(1); // paced: the kernel receive buffer (rmem_max) may be small
    }
    await wait(300);
    const c = mux.counters();
    t.equal(answers, 0, 'not one answer');
    t.ok(
      (c.drops['unknown-ufrag'] ?? 0) > PER_SENDER * senders.length * 0.25,
      `counted (${c.drops['unknown-ufrag']})`,
    );
    t.equal(mux.routedRemoteCount, 0, 'no remote learned');
    t.equal(mux.sessionCount, 1);
    t.equal(s.state, 'new');
    // and a real check still gets through afterwards
    const connected = once(s, 'connected');
    senders[0]!.send(checkFor(s, true), mux.address.port);
    await connected;
    t.equal(mux.routedRemoteCount, 1);
  },
);

t.test(
  'RFC 8445 §8.1.1: a later nomination from a new address moves the session there',
  async (t) => {
    const mux = await IceLiteMux.bind({ address: '127.0.0.1' });
    t.teardown(() => mux.close());
    const [before, after] = await Promise.all([peer(), peer()]);
    t.teardown(() => {
      before.close();
      after.close();
    });
    const s = mux.createSession();
    const connected = once(s, 'connected');
    before.send(checkFor(s, true), mux.address.port);
    await connected;
    await before.next();
    let connects = 0;
    s.on('connected', () => connects++);
    const moved = once(s, 'selected');
    after.send(checkFor(s, true), mux.address.port);
    const [remote, transport] = await moved;
    t.same(remote, { family: 4, address: '127.0.0.1', port: after.port });
    t.equal(transport, 'udp');
    t.equal(connects, 0, "a move is not a new 'connected'");
    await after.next();
    const got: string[] = [];
    s.on('data', (b) => got.push(b.toString('hex')));
    before.send(Buffer.from('8011', 'hex'), mux.address.port);
    after.send(Buffer.from('8022', 'hex'), mux.address.port);
    await wait(100);
    t.same(got, ['8022'], 'the old address is no longer routed');
    t.ok(s.send(Buffer.from('8033', 'hex')));
    t.same(await after.next(), Buffer.from('8033', 'hex'), 'sending follows the new address');
    t.equal(mux.routedRemoteCount, 1);
  },
);
