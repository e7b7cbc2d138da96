import dgram from 'node:dgram';
import { networkInterfaces } from 'node:os';
import type { IceAgentOptions } from './agent-options.js';

/** An address to bind a host candidate on, with the interface it came from. */
export interface HostAddress {
  address: string;
  family: 4 | 6;
  interfaceName: string;
}

/**
 * The addresses host candidates are gathered on (RFC 8445 §5.1.1.1): the explicit
 * `addresses`, or every interface address that passes the filters. Link-local IPv6 is left
 * out (it needs a zone id that a remote peer cannot use), so is loopback unless asked.
 */
export function hostAddresses(o: IceAgentOptions): HostAddress[] {
  if (o.addresses !== undefined) {
    return o.addresses.map((address) => ({
      address,
      family: address.includes(':') ? 6 : 4,
      interfaceName: '',
    }));
  }
  const out: HostAddress[] = [];
  for (const [name, infos] of Object.entries(networkInterfaces())) {
    if (o.interfaces !== undefined && !o.interfaces.includes(name)) continue;
    for (const info of infos ?? []) {
      const family = info.family === 'IPv6' ? 6 : 4;
      if (info.internal && o.includeLoopback !== true) continue;
      if (family === 6 && (o.ipv6 === false || info.address.toLowerCase().startsWith('fe80'))) {
        continue;
      }
      if (o.addressFilter !== undefined && !o.addressFilter(info.address, name)) continue;
      out.push({ address: info.address, family, interfaceName: name });
    }
  }
  return out;
}

/** Binds a UDP socket to `address` on an ephemeral port. */
export function bindUdp(address: string): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({ type: address.includes(':') ? 'udp6' : 'udp4' });
    const onError = (err: Error): void => {
      socket.close();
      reject(err);
    };
    socket.once('error', onError);
    socket.bind(0, address, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}
