import { once } from 'node:events';
import { copyFile, readFile } from 'node:fs/promises';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import t, { type Test } from 'tap';
import type { TurnServer } from '../../lib/turn/server.js';
import {
  connectClient,
  makeCertificate,
  nextData,
  Peer,
  removeDir,
  startServer,
} from './server-fixture.js';

async function tlsServer(t: Test) {
  const first = await makeCertificate();
  t.teardown(() => removeDir(first.dir));
  const running = await startServer({
    tlsListen: [{ host: '127.0.0.1', port: 0 }],
    cert: first.cert,
    key: first.key,
  });
  t.teardown(() => running.server.close());
  return { ...running, ...first, ca: await readFile(first.cert) };
}

/** The certificate fingerprint a fresh TLS connection to the server is shown. */
async function servedFingerprint(server: TurnServer): Promise<string> {
  const { host, port } = server.addresses.tls[0];
  const socket: TLSSocket = tlsConnect({ host, port, rejectUnauthorized: false });
  await once(socket, 'secureConnect');
  const fingerprint = socket.getPeerCertificate().fingerprint256;
  socket.destroy();
  return fingerprint;
}

t.test('TLS: Allocate and relay both ways with certificate verification', async (t) => {
  const { server, ca } = await tlsServer(t);
  const peer = await Peer.open();
  t.teardown(() => peer.close());
  const client = await connectClient(server, 'tls', { tls: { ca, servername: 'localhost' } });
  t.teardown(() => client.close());
  const { relayed } = await client.allocate();
  await client.channelBind(peer.address);
  const received = peer.receive();
  client.send(peer.address, Buffer.from('over tls'));
  t.equal((await received).data.toString(), 'over tls');
  const back = nextData(client);
  peer.send(relayed, Buffer.from('back over tls'));
  t.equal((await back).data.toString(), 'back over tls');
});

t.test('TLS: reloadTls serves the new certificate; old connections keep relaying', async (t) => {
  const { server, ca, cert, key, dir } = await tlsServer(t);
  const peer = await Peer.open();
  t.teardown(() => peer.close());
  const before = await servedFingerprint(server);
  const old = await connectClient(server, 'tls', { tls: { ca, servername: 'localhost' } });
  t.teardown(() => old.close());
  await old.allocate();
  await old.channelBind(peer.address);

  const second = await makeCertificate(dir);
  await copyFile(second.cert, cert);
  await copyFile(second.key, key);
  await server.reloadTls();

  const after = await servedFingerprint(server);
  t.not(after, before, 'a new connection sees the new certificate');
  const fresh = await connectClient(server, 'tls', {
    tls: { ca: await readFile(second.cert), servername: 'localhost' },
  });
  t.teardown(() => fresh.close());
  await fresh.allocate();

  const received = peer.receive();
  old.send(peer.address, Buffer.from('old connection'));
  t.equal((await received).data.toString(), 'old connection', 'the old connection relays on');
});

t.test('TLS: garbage after the handshake disconnects the client', async (t) => {
  const { server, observer } = await tlsServer(t);
  const { host, port } = server.addresses.tls[0];
  const socket = tlsConnect({ host, port, rejectUnauthorized: false });
  await once(socket, 'secureConnect');
  const closed = once(socket, 'close');
  socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff]));
  await closed;
  t.ok(observer.drops.includes('stream-garbage'));
});
