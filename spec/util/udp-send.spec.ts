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
  };
  t.ok(r.fast);
  t.equal(r.queued, r.sent, 'every send was queued');
  t.equal(r.got, r.sent, 'every datagram arrived');
  t.equal(r.intact, r.got, 'each with its own bytes, GCs in between');
});
