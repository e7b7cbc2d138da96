/**
 * Load generator (forked child). Holds one flow per simulated client and sends at a paced
 * rate, round-robin over the flows, for a bounded time per step.
 *
 * Pacing: every tick sends what the elapsed time says is due (at most `MAX_BURST_MS` worth).
 * When on schedule it sleeps ~1 ms with a timer, so an idle generator does not spin a core the
 * server under test needs; when behind it continues with `setImmediate`. A step that could not
 * send ≥ 97% of its target is reported by the parent as generator-limited.
 */
import { createSocket, type Socket } from 'node:dgram';
import {
  type Endpoint,
  errorText,
  type FromGenerator,
  isTyped,
  STEP_OFFSET,
  type ToGenerator,
} from './protocol.js';

/** One client's data path: sends one packet of the current step. */
export interface Flow {
  stamp(step: number): void;
  send(): void;
  close(): Promise<void>;
}

const MAX_BURST_MS = 5;
let sendErrors = 0;

function reply(m: FromGenerator): void {
  process.send?.(m);
}

/**
 * A socket connected to `target`: `send(buf)` on a connected socket skips dgram's per-send
 * address lookup, keeping the generator's cost per packet low.
 */
async function connectedSocket(target: Endpoint): Promise<Socket> {
  const s = createSocket('udp4');
  s.on('error', () => {
    sendErrors++;
  });
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => s.connect(target.port, target.host, resolve));
  return s;
}

/** A datagram flow: `headerBytes` of ChannelData framing (0 for direct), then the payload. */
async function datagramFlow(
  target: Endpoint,
  payloadSize: number,
  channel: number | undefined,
): Promise<Flow> {
  const socket = await connectedSocket(target);
  const header = channel === undefined ? 0 : 4;
  const frame = Buffer.alloc(header + payloadSize, 0x5a);
  if (channel !== undefined) {
    frame.writeUInt16BE(channel, 0);
    frame.writeUInt16BE(payloadSize, 2);
  }
  return {
    stamp(step) {
      frame.writeUInt32BE(step, header + STEP_OFFSET);
    },
    send() {
      socket.send(frame);
    },
    close() {
      return new Promise((resolve) => socket.close(() => resolve()));
    },
  };
}

async function setupFlows(m: Extract<ToGenerator, { type: 'setup' }>): Promise<Flow[]> {
  if (m.mode === 'turn') {
    if (!m.target) throw new TypeError('turn mode needs the server address');
    const { turnFlows } = await import('./turn-flow.js');
    return turnFlows(m.target, m.flows, m.payloadSize);
  }
  const flows: Flow[] = [];
  for (const f of m.flows) {
    if (m.mode === 'direct') flows.push(await datagramFlow(f.sink, m.payloadSize, undefined));
    else {
      if (!m.target) throw new TypeError('bare mode needs the forwarder address');
      flows.push(await datagramFlow(m.target, m.payloadSize, 0x4000 + f.index));
    }
  }
  return flows;
}

function run(flows: Flow[], step: number, rate: number, durationMs: number): void {
  for (const f of flows) f.stamp(step);
  const errorsBefore = sendErrors;
  const maxBurst = Math.max(64, Math.ceil((rate * MAX_BURST_MS) / 1000));
  const t0 = performance.now();
  let sent = 0;
  let next = 0;
  const tick = (): void => {
    const elapsed = Math.min(performance.now() - t0, durationMs);
    const due = Math.min(Math.floor((rate * elapsed) / 1000) - sent, maxBurst);
    for (let i = 0; i < due; i++) {
      flows[next]!.send();
      next = next + 1 === flows.length ? 0 : next + 1;
    }
    if (due > 0) sent += due;
    if (elapsed >= durationMs) {
      const elapsedMs = performance.now() - t0;
      reply({ type: 'done', step, sent, elapsedMs, sendErrors: sendErrors - errorsBefore });
    } else if (Math.floor((rate * (performance.now() - t0)) / 1000) - sent > rate / 1000) {
      // More than 1 ms behind schedule: keep going without sleeping.
      setImmediate(tick);
    } else {
      setTimeout(tick, 1);
    }
  };
  tick();
}

let flows: Flow[] = [];

process.on('message', (m: unknown) => {
  if (!isTyped(m)) return;
  const msg = m as ToGenerator;
  if (msg.type === 'setup') {
    setupFlows(msg).then(
      (f) => {
        flows = f;
        reply({ type: 'ready', flows: f.length });
      },
      (err: unknown) => reply({ type: 'error', message: errorText(err) }),
    );
  } else if (msg.type === 'run') {
    if (flows.length === 0) reply({ type: 'error', message: 'run before setup' });
    else run(flows, msg.step, msg.rate, msg.durationMs);
  } else if (msg.type === 'close') {
    Promise.allSettled(flows.map((f) => f.close())).then(() => {
      flows = [];
      reply({ type: 'closed' });
    });
  }
});
process.on('disconnect', () => process.exit(0));
