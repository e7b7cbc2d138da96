import type dgram from 'node:dgram';
import type { TransportAddress } from '../stun/index.js';
import type { Logger } from '../util/logger.js';
import { type IceAgentOptions, type IceTurnServer, parseIceUrl } from './agent-options.js';
import { candidatePriority } from './candidate.js';
import { bindUdp, type HostAddress, hostAddresses } from './gather-host.js';
import { RelayBase } from './gather-relay.js';
import { SrflxRequests } from './gather-srflx.js';
import type { LocalCandidate } from './pair.js';

/** What the gatherer needs from its agent. */
export interface GatherHooks {
  /** A new local candidate (the agent pairs it and trickles it). */
  candidate(c: LocalCandidate): void;
  /** A datagram on a host socket, or relayed data from a TURN allocation. */
  packet(base: string, buf: Buffer, from: TransportAddress): void;
  /** True once the agent closed: results that arrive later are dropped. */
  closed(): boolean;
}

export interface HostBase {
  id: string;
  socket: dgram.Socket;
  host: HostAddress;
  candidate: LocalCandidate;
}

/**
 * Candidate gathering (RFC 8445 §5.1.1): a UDP socket per host address, a Binding request
 * from each to each STUN server (the srflx shares the host socket as its base), an
 * allocation per TURN URL. Owns the sockets and allocations; `sendOn` writes on a base.
 */
export class Gatherer {
  readonly hosts: HostBase[] = [];
  readonly relays = new Map<string, RelayBase>();
  readonly srflx = new SrflxRequests();
  private readonly emitted: LocalCandidate[] = [];
  private readonly foundations = new Map<string, string>();

  constructor(
    private readonly options: IceAgentOptions,
    private readonly timeoutMs: number,
    private readonly log: Logger,
    private readonly hooks: GatherHooks,
  ) {}

  /** Gathers everything; resolves when every server answered or timed out. */
  async run(): Promise<void> {
    const addresses = hostAddresses(this.options);
    const bound = await Promise.all(
      addresses.map((h) =>
        bindUdp(h.address).then(
          (s) => ({ h, s }),
          (err: Error) => {
            this.log.debug({ err, address: h.address }, 'ice: cannot bind host candidate');
            return undefined;
          },
        ),
      ),
    );
    if (this.hooks.closed()) {
      for (const b of bound) b?.s.close();
      return;
    }
    const relayOnly = this.options.relayOnly === true;
    bound.forEach((b, i) => {
      if (b === undefined) return;
      const port = b.s.address().port;
      const base = `h${i}`;
      const candidate: LocalCandidate = {
        foundation: this.foundation('host', b.h.address, ''),
        component: 1,
        transport: 'udp',
        priority: candidatePriority('host', 65535 - i, 1),
        address: b.h.address,
        port,
        type: 'host',
        base,
      };
      const host: HostBase = { id: base, socket: b.s, host: b.h, candidate };
      this.hosts.push(host);
      b.s.on('message', (msg, rinfo) => this.hooks.packet(base, msg, fromRinfo(rinfo)));
      b.s.on('error', (err) => this.log.debug({ err }, 'ice: socket error'));
      if (!relayOnly) this.add(candidate);
    });
    const tasks: Promise<void>[] = [];
    if (!relayOnly) {
      for (const server of this.options.stunServers ?? []) {
        const s = typeof server === 'string' ? parseIceUrl(server) : server;
        for (const h of this.hosts) tasks.push(this.gatherSrflx(h, s.host, s.port));
      }
    }
    let r = 0;
    for (const server of this.options.turnServers ?? []) {
      for (const u of typeof server.urls === 'string' ? [server.urls] : server.urls) {
        const url = parseIceUrl(u);
        if (url.scheme === 'stun') continue;
        tasks.push(this.gatherRelay(`r${r++}`, url, server));
      }
    }
    await Promise.all(tasks);
  }

  private async gatherSrflx(h: HostBase, host: string, port: number): Promise<void> {
    if ((host.includes(':') ? 6 : 4) !== h.host.family) return;
    try {
      const mapped = await this.srflx.binding(
        (buf) => h.socket.send(buf, port, host),
        this.timeoutMs,
      );
      if (this.hooks.closed()) return;
      const dup = this.emitted.some((l) => l.address === mapped.address && l.port === mapped.port);
      if (dup) return;
      this.add({
        foundation: this.foundation('srflx', h.host.address, `${host}:${port}`),
        component: 1,
        transport: 'udp',
        priority: candidatePriority('srflx', (h.candidate.priority >>> 8) & 0xffff, 1),
        address: mapped.address,
        port: mapped.port,
        type: 'srflx',
        relatedAddress: h.candidate.address,
        relatedPort: h.candidate.port,
        base: h.id,
      });
    } catch (err) {
      this.log.debug({ err, host, port }, 'ice: no server-reflexive candidate');
    }
  }

  private async gatherRelay(
    id: string,
    url: ReturnType<typeof parseIceUrl>,
    server: IceTurnServer,
  ): Promise<void> {
    try {
      const relay = await RelayBase.allocate(
        url,
        server.username,
        server.credential,
        this.timeoutMs,
        server.tls,
      );
      if (this.hooks.closed()) {
        await relay.close();
        return;
      }
      this.relays.set(id, relay);
      relay.client.on('data', (peer, data) => this.hooks.packet(id, data, peer));
      relay.client.on('error', (err) => this.log.debug({ err }, 'ice: TURN client error'));
      const transportPref = url.transport === 'udp' ? 2 : url.transport === 'tcp' ? 1 : 0;
      this.add({
        foundation: this.foundation('relay', url.host, `${url.port}/${url.transport}`),
        component: 1,
        transport: 'udp',
        priority: candidatePriority('relay', transportPref * 256 + 255 - this.relays.size, 1),
        address: relay.relayed.address,
        port: relay.relayed.port,
        type: 'relay',
        relatedAddress: relay.mapped.address,
        relatedPort: relay.mapped.port,
        base: id,
      });
    } catch (err) {
      this.log.debug({ err, url }, 'ice: no relayed candidate');
    }
  }

  /** RFC 8445 §5.1.1.3: same type, base IP and server (and transport) → same foundation. */
  private foundation(type: string, base: string, server: string): string {
    const key = `${type}|${base}|${server}`;
    let f = this.foundations.get(key);
    if (f === undefined) {
      f = String(this.foundations.size + 1);
      this.foundations.set(key, f);
    }
    return f;
  }

  private add(c: LocalCandidate): void {
    this.emitted.push(c);
    this.hooks.candidate(c);
  }

  /** Writes `data` to `to` from base `base` (a host socket or through a relay). */
  sendOn(base: string, to: TransportAddress, data: Buffer): void {
    const relay = this.relays.get(base);
    if (relay !== undefined) {
      relay.send(to, data);
      return;
    }
    const h = this.hosts.find((x) => x.id === base);
    h?.socket.send(data, to.port, to.address, (err) => {
      if (err) this.log.debug({ err }, 'ice: send failed');
    });
  }

  async close(): Promise<void> {
    this.srflx.cancel();
    for (const h of this.hosts) h.socket.close();
    await Promise.all([...this.relays.values()].map((r) => r.close().catch(() => {})));
    this.relays.clear();
  }
}

function fromRinfo(r: dgram.RemoteInfo): TransportAddress {
  return { family: r.family === 'IPv6' ? 6 : 4, address: r.address, port: r.port };
}
