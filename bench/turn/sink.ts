/**
 * Peer sinks (forked child): UDP sockets on 127.0.0.1 that count the datagrams of the current
 * step. Bytes 0..3 of every payload carry the step number, so stragglers of an earlier step are
 * counted as stale instead of inflating the next one.
 */
import { createSocket, type Socket } from 'node:dgram';
import { type FromSink, isTyped, STEP_OFFSET, type ToSink } from './protocol.js';

/** The sinks are the measuring instrument: give them the largest buffer the kernel allows. */
const RECV_BUFFER = 4 * 1024 * 1024;

let step = 0;
let received = 0;
let stale = 0;
const sockets: Socket[] = [];

function reply(m: FromSink): void {
  process.send?.(m);
}

function onMessage(msg: Buffer): void {
  if (msg.length >= STEP_OFFSET + 4 && msg.readUInt32BE(STEP_OFFSET) === step) received++;
  else stale++;
}

async function open(n: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = createSocket('udp4');
    s.on('message', onMessage);
    s.on('error', () => {});
    await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
    try {
      s.setRecvBufferSize(RECV_BUFFER);
    } catch {
      // Capped by net.core.rmem_max; the default buffer still works, with more loss.
    }
    sockets.push(s);
    ports.push(s.address().port);
  }
  return ports;
}

process.on('message', (m: unknown) => {
  if (!isTyped(m)) return;
  const msg = m as ToSink;
  if (msg.type === 'open') {
    open(msg.sockets).then(
      (ports) => reply({ type: 'opened', ports }),
      (err: unknown) => reply({ type: 'error', message: String(err) }),
    );
  } else if (msg.type === 'step') {
    reply({ type: 'stepped', step, previousReceived: received, stale });
    step = msg.step;
    received = 0;
    stale = 0;
  }
});
process.on('disconnect', () => process.exit(0));
