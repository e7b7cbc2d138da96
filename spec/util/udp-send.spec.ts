import { execFile } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { UdpSender } from '../../lib/util/udp-send.js';

const major = Number(process.versions.node.split('.')[0]);

async function bound(type: 'udp4' | 'udp6' = 'udp4'): Promise<Socket> {
  const s = createSocket(type);
  await new Promise<void>((ok) => s.bind(0, type === 'udp4' ? '127.0.0.1' : '::1', ok));
  return s;
}

/** Collects `n` datagrams (or what came in `ms`). */
function collect(s: Socket, n: number, ms = 2_000): Promise<Buffer[]> {
  const got: Buffer[] = [];
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(got), ms);
    s.on('message', (m) => {
      got.push(m);
      if (got.length === n) {
        clearTimeout(timer);
        resolve(got);
      }
    });
  });
}

t.test('the handle path is taken on the Node versions rtcd supports', async (t) => {
  const s = await bound();
  t.teardown(() => s.close());
  // A Node that changes dgram's internals would silently cost every forwarded packet more:
  // this fails so the change is seen, rather than measured later.
  if (major === 20 || major === 22) t.ok(new UdpSender(s).fast, `Node ${process.version}`);
  t.notOk(new UdpSender(s, { fast: false }).fast, 'fast: false is the plain socket.send');
});

for (const fast of [true, false]) {
  t.test(`datagrams arrive whole and in order (fast: ${fast})`, async (t) => {
    const [rx, tx] = [await bound(), await bound()];
    t.teardown(() => {
      rx.close();
      tx.close();
    });
    const sender = new UdpSender(tx, { fast });
    const sent = Array.from({ length: 50 }, (_, i) => Buffer.alloc(1 + i * 29, i));
    const arriving = collect(rx, sent.length);
    for (const b of sent) sender.send(b, rx.address().port, '127.0.0.1');
    const got = await arriving;
    t.same(got, sent);
    t.equal(sender.sentAtOnce, fast ? sent.length : 0);
    t.equal(sender.failed, 0);
  });
}

t.test('udp6: an IPv6 socket sends with its own family', async (t) => {
  const [rx, tx] = [await bound('udp6'), await bound('udp6')];
  t.teardown(() => {
    rx.close();
    tx.close();
  });
  const sender = new UdpSender(tx);
  const arriving = collect(rx, 1);
  sender.send(Buffer.from('six'), rx.address().port, '::1');
  t.same(await arriving, [Buffer.from('six')]);
});

t.test('what the system refuses is dropped and counted, never thrown', async (t) => {
  const tx = await bound();
  const sender = new UdpSender(tx);
  sender.send(Buffer.from('x'), 9, '::1'); // not an address of a udp4 socket
  sender.send(Buffer.from('x'), 9, 'localhost'); // not a literal: this sender never resolves
  t.equal(sender.failed, 2);
  tx.close();
  sender.send(Buffer.from('x'), 9, '127.0.0.1');
  t.equal(sender.failed, 3, 'after close: nothing sent, nothing thrown');
});

t.test('a bad port is socket.send’s own error (never reaches the native call)', async (t) => {
  const tx = await bound();
  t.teardown(() => tx.close());
  const sender = new UdpSender(tx);
  for (const port of [0, -1, 65536, 1.5, Number.NaN]) {
    t.throws(() => sender.send(Buffer.from('x'), port, '127.0.0.1'), {
      code: 'ERR_SOCKET_BAD_PORT',
    });
  }
  t.throws(() => sender.send(Buffer.from('x'), 9, 7 as unknown as string), TypeError);
});

t.test('a socket without the expected internals gets the plain socket.send', async (t) => {
  const calls: unknown[][] = [];
  const lookalike = { send: (...a: unknown[]) => calls.push(a) } as unknown as Socket;
  const sender = new UdpSender(lookalike);
  t.notOk(sender.fast);
  sender.send(Buffer.from('x'), 9, '127.0.0.1');
  t.equal(calls.length, 1);
});

t.test('sends libuv must queue keep their buffers and get a request each', async (t) => {
  // Node's --test-udp-no-try-send makes every send take the queued path (as when the kernel's
  // send buffer is full), which loopback alone does not reach.
  const child = fileURLToPath(new URL('./udp-send-queued.ts', import.meta.url));
  const out = await new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      ['--test-udp-no-try-send', '--expose-gc', '--import', 'tsx', child],
      { timeout: 30_000 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    );
  });
  const r = JSON.parse(out) as {
    fast: boolean;
    queued: number;
    got: number;
    intact: number;
    sent: number;
    listQueued: number;
    listGot: number;
    listIntact: number;
  };
  t.ok(r.fast);
  t.equal(r.queued, r.sent, 'every send was queued');
  t.equal(r.got, r.sent, 'every datagram arrived');
  t.equal(r.intact, r.got, 'each with its own bytes, GCs in between');
  t.equal(r.listQueued, r.sent, 'lists: every send was queued');
  t.equal(r.listGot, r.sent, 'lists: every datagram arrived');
  t.equal(r.listIntact, r.listGot, 'lists: every buffer of each kept, the array reused');
});

async function connectedTo(rx: Socket): Promise<Socket> {
  const s = await bound();
  await new Promise<void>((ok) => s.connect(rx.address().port, '127.0.0.1', ok));
  return s;
}

/** Head, body and padding as the TURN listener sends ChannelData: [hdr, payload, pad]. */
function parts(i: number): Uint8Array[] {
  const h = Buffer.from([0x40, i, 0, 1 + i]);
  return [h, new Uint8Array(1 + i).fill(i), Buffer.alloc((4 - ((1 + i) % 4)) % 4)];
}

for (const fast of [true, false]) {
  t.test(`a list is one datagram, its parts concatenated (fast: ${fast})`, async (t) => {
    const [rx, tx] = [await bound(), await bound()];
    const ctx = await connectedTo(rx);
    t.teardown(() => {
      rx.close();
      tx.close();
      ctx.close();
    });
    const sender = new UdpSender(tx, { fast });
    const connected = new UdpSender(ctx, { fast });
    const want: Buffer[] = [];
    const arriving = collect(rx, 80);
    const list: Uint8Array[] = [];
    for (let i = 0; i < 20; i++) {
      const p = parts(i);
      list.splice(0, 3, ...p);
      const count = p[2]!.length === 0 ? 2 : 3; // padding 0: a 2-part list, as TURN sends
      sender.sendList(list, count, rx.address().port, '127.0.0.1');
      connected.sendListConnected(list, count);
      want.push(Buffer.concat(p), Buffer.concat(p));
      // Only the first `count` count; and a single buffer on the connected socket.
      sender.sendList([p[0]!, p[1]!, Buffer.from('never sent')], 1, rx.address().port, '127.0.0.1');
      connected.sendConnected(p[1]!);
      want.push(Buffer.from(p[0]!), Buffer.from(p[1]!));
    }
    const got = await arriving;
    t.equal(got.length, want.length, 'every datagram arrived');
    // Two sockets interleave: compare as sets.
    t.same(
      got.map((b) => b.toString('hex')).sort(),
      want.map((b) => b.toString('hex')).sort(),
      'each one the concatenation of its parts, no more',
    );
    t.equal(sender.sentAtOnce + connected.sentAtOnce, fast ? 80 : 0);
    t.equal(sender.failed + connected.failed, 0);
  });
}

t.test(
  'a malformed list never reaches the native send (socket.send’s error or a RangeError)',
  async (t) => {
    const rx = await bound();
    const tx = await bound();
    const ctx = await connectedTo(rx);
    t.teardown(() => {
      rx.close();
      tx.close();
      ctx.close();
    });
    const sender = new UdpSender(tx);
    const connected = new UdpSender(ctx);
    t.ok(sender.fast && connected.fast);
    const bad = [Buffer.from('x'), 7 as unknown as Uint8Array];
    t.throws(() => sender.sendList(bad, 2, 9, '127.0.0.1'), { code: 'ERR_INVALID_ARG_TYPE' });
    t.throws(() => connected.sendListConnected(bad, 2), { code: 'ERR_INVALID_ARG_TYPE' });
    // socket.send takes strings in a list (its own conversion): so does the fallback.
    const arriving = collect(rx, 1);
    connected.sendListConnected([Buffer.from('a'), 'b' as unknown as Uint8Array], 2);
    t.same(await arriving, [Buffer.from('ab')]);
    // A count beyond the list or not whole never reaches the native call.
    for (const count of [2, 1.5, -1, Number.NaN]) {
      t.throws(() => sender.sendList([Buffer.from('x')], count, 9, '127.0.0.1'), RangeError);
      t.throws(() => connected.sendListConnected([Buffer.from('x')], count), RangeError);
    }
    t.throws(() => sender.sendList([Buffer.from('x')], 1, 0, '127.0.0.1'), {
      code: 'ERR_SOCKET_BAD_PORT',
    });
    t.equal(sender.failed, 0);
  },
);

t.test('connected sends: refused on an unconnected socket, nothing after close', async (t) => {
  const rx = await bound();
  const tx = await bound();
  t.teardown(() => rx.close());
  const sender = new UdpSender(tx);
  sender.sendConnected(Buffer.from('x')); // EDESTADDRREQ: counted, not thrown
  sender.sendListConnected([Buffer.from('x')], 1);
  t.equal(sender.failed, 2);
  await new Promise<void>((ok) => tx.connect(rx.address().port, '127.0.0.1', ok));
  const arriving = collect(rx, 1);
  sender.sendConnected(Buffer.from('now'));
  t.same(await arriving, [Buffer.from('now')]);
  // A destination on a connected socket is refused too (EISCONN), as socket.send throws.
  sender.sendList([Buffer.from('x')], 1, rx.address().port, '127.0.0.1');
  t.equal(sender.failed, 3);
  tx.close();
  sender.sendConnected(Buffer.from('x'));
  sender.sendListConnected([Buffer.from('x')], 1);
  sender.sendList([Buffer.from('x')], 1, rx.address().port, '127.0.0.1');
  t.equal(sender.failed, 6, 'after close: nothing sent, nothing thrown');
});
