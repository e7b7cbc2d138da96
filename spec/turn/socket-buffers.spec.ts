import { readFileSync } from 'node:fs';
import t from 'tap';
import { bindRelay } from '../../lib/turn/relay-socket.js';
import { UdpListener } from '../../lib/turn/udp-listener.js';

/**
 * listenerBufferSize / relayBufferSize reach the kernel. Linux reports twice what was set
 * (bookkeeping overhead) and caps the request at net.core.rmem_max / wmem_max, so the
 * expectation is min(asked, max) and the check is "at least that".
 */
function kernelMax(name: 'rmem_max' | 'wmem_max'): number {
  try {
    return Number(readFileSync(`/proc/sys/net/core/${name}`, 'utf8').trim());
  } catch {
    return 212992;
  }
}

const ASKED = 1024 * 1024;
const DEFAULT_RCVBUF = 212992;

t.test('a UDP listener asks the kernel for listenerBufferSize', async (t) => {
  const handlers = { packet: () => {}, error: () => {} };
  const listener = new UdpListener({ host: '127.0.0.1', port: 0 }, false, handlers, ASKED);
  t.teardown(() => listener.close());
  await listener.start();
  const recv = listener.socket.getRecvBufferSize();
  const send = listener.socket.getSendBufferSize();
  t.ok(recv >= Math.min(ASKED, kernelMax('rmem_max')), `SO_RCVBUF ${recv}`);
  t.ok(send >= Math.min(ASKED, kernelMax('wmem_max')), `SO_SNDBUF ${send}`);
  if (kernelMax('rmem_max') > DEFAULT_RCVBUF) t.ok(recv > DEFAULT_RCVBUF, 'above the default');
});

t.test('a relay socket asks the kernel for relayBufferSize', async (t) => {
  const result = await bindRelay({
    family: 4,
    ip: '127.0.0.1',
    externalIp: undefined,
    minPort: 40000,
    maxPort: 40999,
    evenPort: false,
    reserveNext: false,
    bufferSize: ASKED,
  });
  if (!result.ok) throw new Error(`bind failed: ${result.reason}`);
  t.teardown(() => result.relay.close());
  const recv = result.relay.socket.getRecvBufferSize();
  t.ok(recv >= Math.min(ASKED, kernelMax('rmem_max')), `SO_RCVBUF ${recv}`);
});
