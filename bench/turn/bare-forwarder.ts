/**
 * The ceiling of the runtime: a Node `dgram` forwarder with the syscalls of a TURN UDP relay and
 * none of its protocol work. It receives ChannelData-framed datagrams on one socket, looks the
 * client up by its address (as a relay looks up the 5-tuple), and forwards the payload from
 * that client's own relay socket to the peer its channel number names (0x4000 + i → peer i);
 * datagrams from a peer go back framed as ChannelData, from the listening socket.
 *
 * Like a relay, no socket is connected (a relay socket must hear from any permitted peer), so
 * every send carries an address; dgram's per-send lookup is made synchronous for IP literals,
 * which is the cheapest way Node offers to send to an address.
 *
 *   node --import tsx bench/turn/bare-forwarder.ts --listen 127.0.0.1:0 --peers 127.0.0.1:5000,…
 *     [--recv-buffer <bytes>]   (default 4 MiB; 0 keeps the system default)
 * prints one line `{"port":N}` once listening.
 */
import { createSocket, type Socket, type SocketOptions } from 'node:dgram';
import { parseArgs } from 'node:util';
import { literalLookup } from '../../lib/util/literal-lookup.js';

// IP literals only, answered synchronously (saves dgram a tick per send): the same lookup
// rtcd's listener and relay sockets use, so the ceiling and rtcd pay the same per send.
const socketOptions: SocketOptions = { type: 'udp4', lookup: literalLookup };

function hostPort(text: string): { host: string; port: number } {
  const i = text.lastIndexOf(':');
  const port = Number(text.slice(i + 1));
  if (i < 1 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError(`expected host:port, got '${text}'`);
  }
  return { host: text.slice(0, i), port };
}

interface Client {
  address: string;
  port: number;
  relay: Socket;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      listen: { type: 'string' },
      peers: { type: 'string' },
      'recv-buffer': { type: 'string' },
    },
  });
  const listen = hostPort(values.listen ?? '127.0.0.1:0');
  const peers = (values.peers ?? '').split(',').filter(Boolean).map(hostPort);
  // coturn asks for 4 MiB socket buffers (the kernel caps them at net.core.rmem_max); so does the
  // ceiling, since a relay that drops bursts for want of buffer says nothing about the runtime.
  const recvBuffer = Number(values['recv-buffer'] ?? 4 * 1024 * 1024);
  const peerIndex = new Map(peers.map((p, i) => [`${p.host}:${p.port}`, i]));
  const clients = new Map<string, Client>();
  const server = createSocket(socketOptions);

  const newClient = (address: string, port: number): Client => {
    const relay = createSocket(socketOptions);
    const client: Client = { address, port, relay };
    relay.bind(0, listen.host, () => {
      if (recvBuffer > 0) relay.setRecvBufferSize(recvBuffer);
    });
    relay.on('message', (data: Buffer, from) => {
      const i = peerIndex.get(`${from.address}:${from.port}`);
      if (i === undefined) return;
      const header = Buffer.allocUnsafe(4);
      header.writeUInt16BE(0x4000 + i, 0);
      header.writeUInt16BE(data.length, 2);
      server.send([header, data], client.port, client.address);
    });
    return client;
  };

  server.on('message', (msg: Buffer, rinfo) => {
    if (msg.length < 4) return;
    const key = `${rinfo.address}:${rinfo.port}`;
    let client = clients.get(key);
    if (client === undefined) {
      client = newClient(rinfo.address, rinfo.port);
      clients.set(key, client);
    }
    const peer = peers[msg.readUInt16BE(0) - 0x4000];
    if (peer === undefined) return;
    client.relay.send(msg.subarray(4, 4 + msg.readUInt16BE(2)), peer.port, peer.host);
  });
  server.bind(listen.port, listen.host, () => {
    if (recvBuffer > 0) server.setRecvBufferSize(recvBuffer);
    process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
  });
  const stop = (): void => {
    server.close();
    for (const c of clients.values()) c.relay.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
