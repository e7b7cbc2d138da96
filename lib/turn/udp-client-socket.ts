import { createSocket, type RemoteInfo, type Socket, type SocketOptions } from 'node:dgram';

/**
 * Why a UDP client with an allocation gets a socket of its own when the listener shares its
 * port through SO_REUSEPORT (`rtcd turn --workers N`):
 *
 * The kernel picks a member of a reuseport group by hashing the datagram's addresses and
 * ports over the group's sockets. When the group changes (a worker starts late, dies, is
 * restarted) that choice changes too, and an existing client's datagrams reach a process
 * that holds no allocation for it: its ChannelData is dropped and the call breaks.
 *
 * A socket bound to the same address and port *and* `connect()`ed to the client is matched
 * on all four of local and remote address and port before the group's hash is consulted
 * (Linux scores an exact 4-tuple above a bound-only socket and skips connected sockets when
 * it hashes over the group), so the client's datagrams keep reaching the process that holds
 * its allocation whatever the group does. Sending through it gives the client the same
 * source address and port as the listener, with no address lookup per datagram.
 * Checked on Linux 6.18 with Node 22: members joining and leaving the group while datagrams
 * flow move none of a connected client's datagrams (see spec/cli/cli.spec.ts).
 */

export interface ClientSocketOptions {
  /** The listener's socket options (family, reusePort, buffer sizes, lookup). */
  socket: SocketOptions;
  /** The listener's bound address and port. */
  host: string;
  port: number;
  /** The client, as `rinfo` gave it. */
  remoteAddress: string;
  remotePort: number;
  /** Every datagram the socket receives (before `connect` completes it may be anyone's). */
  message: (data: Buffer, rinfo: RemoteInfo) => void;
  /** Called once connected: from then on `send` without an address reaches the client. */
  connected: (socket: Socket) => void;
  /** Bind or connect failed: the caller keeps sending through the listener. */
  failed: (socket: Socket, error: Error) => void;
}

/**
 * Opens a socket bound to the listener's address and port and connected to one client.
 * Bind and connect run back to back (the lookup is synchronous for literals, and reusePort
 * makes dgram bind in this process even in a cluster worker), so the socket is an
 * unconnected member of the group only for an instant; whatever reaches it meanwhile goes
 * to `message` with its real source, like any datagram on the listener.
 */
export function openClientSocket(o: ClientSocketOptions): Socket {
  const socket = createSocket(o.socket);
  let connected = false;
  socket.on('message', o.message);
  socket.on('error', (error: NodeJS.ErrnoException) => {
    if (!connected) {
      o.failed(socket, error);
      return;
    }
    // A connected UDP socket hears ICMP port-unreachable as ECONNREFUSED: the client went
    // away, its allocation will expire. Nothing else is expected here.
  });
  socket.bind({ address: o.host, port: o.port, exclusive: true }, () => {
    socket.connect(o.remotePort, o.remoteAddress, () => {
      connected = true;
      o.connected(socket);
    });
  });
  return socket;
}
