/**
 * An `SfuServer` for a spec: HTTP and the ICE-lite UDP port on 127.0.0.1, both on port 0 (the
 * options' defaults), so files running side by side never collide.
 */
import type { Test } from 'tap';
import { SfuServer, type SfuServerOptions } from '../../lib/sfu/sfu-server.js';
import type { TransportAddress } from '../../lib/stun/transport-address.js';

export interface ListeningSfu {
  sfu: SfuServer;
  /** HTTP base URL, `http://127.0.0.1:<port>`. */
  url: string;
  /** The media port (for clients that send to it directly). */
  udp: TransportAddress;
}

/** Starts a server; the caller closes it. */
export async function listenSfu(options: SfuServerOptions = {}): Promise<ListeningSfu> {
  const sfu = new SfuServer(options);
  const { url } = await sfu.listen();
  const udp = sfu.udpAddress;
  if (udp === undefined) throw new Error('SfuServer listening without a UDP address');
  return { sfu, url, udp };
}

/** Starts a server that `t`'s teardown closes (a test's `t`, or the file's root `t`). */
export async function startSfu(t: Test, options: SfuServerOptions = {}): Promise<ListeningSfu> {
  const started = await listenSfu(options);
  t.teardown(() => started.sfu.close());
  return started;
}
