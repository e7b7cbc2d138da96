import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { TransportAddress } from '../stun/index.js';
import { TurnClient } from '../turn/client.js';
import type { TurnUrl } from './agent-options.js';

/**
 * A relayed candidate's base: one TURN allocation (RFC 8656) reached over UDP, TCP or TLS.
 * Checks and data to a peer go out as Send indications (ChannelData once bound); a
 * permission for the peer's IP is created before the first packet to it, since the server
 * drops packets for peers without one (§9).
 */
export class RelayBase {
  private readonly permissions = new Map<string, Promise<boolean>>();
  private readonly ready = new Set<string>();

  private constructor(
    readonly client: TurnClient,
    readonly relayed: TransportAddress,
    readonly mapped: TransportAddress,
    readonly url: TurnUrl,
  ) {}

  static async allocate(
    url: TurnUrl,
    username: string,
    password: string,
    timeoutMs: number,
    tls?: ConnectionOptions,
  ): Promise<RelayBase> {
    const client = await TurnClient.connect({
      server: { host: url.host, port: url.port },
      transport: url.transport,
      username,
      password,
      connectTimeoutMs: timeoutMs,
      timeoutMs,
      autoRefresh: true,
      closeTimeoutMs: 500,
      // SNI carries names only (RFC 6066 §3), never an IP literal.
      ...(url.transport === 'tls'
        ? { tls: { ...(isIP(url.host) ? {} : { servername: url.host }), ...tls } }
        : {}),
    });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('TURN server did not answer')), timeoutMs);
    });
    try {
      // UDP retransmissions alone would take 39.5 s to give up (RFC 8489 defaults).
      const a = await Promise.race([client.allocate(), deadline]);
      return new RelayBase(client, a.relayed, a.mapped, url);
    } catch (err) {
      await client.close();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends `data` to `peer` through the relay, creating the permission first if needed. */
  send(peer: TransportAddress, data: Buffer): void {
    if (this.ready.has(peer.address)) {
      this.client.send(peer, data);
      return;
    }
    this.permit(peer).then((ok) => {
      if (ok) this.client.send(peer, data);
    });
  }

  /** Creates (once) the permission for `peer`'s IP; resolves false if the server refused. */
  permit(peer: TransportAddress): Promise<boolean> {
    let p = this.permissions.get(peer.address);
    if (p === undefined) {
      p = this.client.createPermission([peer]).then(
        () => {
          this.ready.add(peer.address);
          return true;
        },
        () => {
          this.permissions.delete(peer.address);
          return false;
        },
      );
      this.permissions.set(peer.address, p);
    }
    return p;
  }

  /** Binds a channel to the selected peer: 4 bytes of framing instead of 36 (RFC 8656 §12). */
  bindChannel(peer: TransportAddress): void {
    this.client.channelBind(peer).catch(() => {});
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
