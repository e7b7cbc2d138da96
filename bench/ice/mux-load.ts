/**
 * Child process of `benchMux`: the load generator. Precomputes one valid check per session
 * (real MESSAGE-INTEGRITY under that session's password, FINGERPRINT) and keeps `window`
 * checks in flight on one socket, sending the next on every response (closed loop: the rate
 * found is what the server sustains, without a loss ladder). Checks lost on the way are
 * replaced after a quiet 50 ms.
 */
import { createSocket } from 'node:dgram';
import { buildCheckRequest } from '../../lib/ice/stun-check.js';
import { benchPwd, benchUfrag, isMessage, type LoadIn, type LoadOut } from './mux-protocol.js';

function reply(m: LoadOut): void {
  process.send?.(m);
}

function precompute(sessions: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < sessions; i++) {
    out.push(
      buildCheckRequest({
        localUfrag: 'load',
        remoteUfrag: benchUfrag(i),
        remotePwd: benchPwd(i),
        priority: 1862270975,
        role: 'controlling',
        tieBreaker: BigInt(i + 1),
      }),
    );
  }
  return out;
}

async function run(m: LoadIn): Promise<void> {
  const checks = precompute(m.sessions);
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  let next = 0;
  let sent = 0;
  let received = 0;
  let lastReceived = 0;
  let inFlight = 0;
  const send = (): void => {
    const c = checks[next]!;
    next = next + 1 === checks.length ? 0 : next + 1;
    sent++;
    inFlight++;
    socket.send(c, m.port, '127.0.0.1');
  };
  socket.on('message', () => {
    received++;
    inFlight--;
    send();
  });
  const refill = setInterval(() => {
    if (received === lastReceived) inFlight = 0; // quiet: whatever was in flight is lost
    lastReceived = received;
    while (inFlight < m.window) send();
  }, 50);
  const cpu = process.cpuUsage();
  const started = performance.now();
  while (inFlight < m.window) send();
  await new Promise((r) => setTimeout(r, m.durationMs));
  const elapsedMs = performance.now() - started;
  const counted = received;
  const used = process.cpuUsage(cpu);
  clearInterval(refill);
  socket.close();
  reply({ type: 'done', sent, received: counted, elapsedMs, cpuUs: used.user + used.system });
}

process.on('message', (m: unknown) => {
  if (!isMessage(m) || m.type !== 'run') return;
  run(m as LoadIn).then(
    () => process.disconnect?.(),
    (err: unknown) => {
      reply({ type: 'error', message: String(err) });
      process.disconnect?.();
    },
  );
});
