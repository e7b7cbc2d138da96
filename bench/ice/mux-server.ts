/**
 * Child process of `benchMux`: the server under test. `mux` binds an `IceLiteMux` on
 * 127.0.0.1 with N registered sessions; `bare` is a dgram socket that echoes every datagram
 * (the ceiling: what Node's UDP costs with no STUN work). Reports CPU time between `ready`
 * and `stop` and, for the mux, memory per idle session. Run with `--expose-gc`.
 */
import { createSocket } from 'node:dgram';
import { IceLiteMux } from '../../lib/ice/udp-mux.js';
import { benchPwd, benchUfrag, isMessage, type ServerIn, type ServerOut } from './mux-protocol.js';

function reply(m: ServerOut): void {
  process.send?.(m);
}

function memory(): number {
  const gc = Reflect.get(globalThis, 'gc');
  if (typeof gc === 'function') {
    gc();
    gc();
  }
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

async function start(kind: 'mux' | 'bare', sessions: number): Promise<() => Promise<number>> {
  if (kind === 'bare') {
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    socket.setRecvBufferSize(4 * 1024 * 1024); // as the mux's default receiveBufferBytes
    let answered = 0;
    socket.on('message', (buf, rinfo) => {
      answered++;
      socket.send(buf, rinfo.port, rinfo.address);
    });
    const cpu = process.cpuUsage();
    reply({ type: 'ready', port: socket.address().port, bytesPerSession: 0 });
    return async () => {
      const used = process.cpuUsage(cpu);
      socket.close();
      reply({ type: 'stopped', cpuUs: used.user + used.system, answered });
      return answered;
    };
  }
  const mux = await IceLiteMux.bind({ address: '127.0.0.1', maxSessions: sessions + 1 });
  // Warm the code paths, so the memory delta holds sessions and not compiled code.
  mux.createSession().close();
  const before = memory();
  for (let i = 0; i < sessions; i++) {
    mux.createSession({ localUfrag: benchUfrag(i), localPwd: benchPwd(i) });
  }
  const after = memory();
  const cpu = process.cpuUsage();
  reply({
    type: 'ready',
    port: mux.address.port,
    bytesPerSession: Math.round((after - before) / Math.max(1, sessions)),
  });
  return async () => {
    const used = process.cpuUsage(cpu);
    const answered = mux.counters().checksAnswered;
    await mux.close();
    reply({ type: 'stopped', cpuUs: used.user + used.system, answered });
    return answered;
  };
}

let stop: (() => Promise<number>) | undefined;
process.on('message', (m: unknown) => {
  if (!isMessage(m)) return;
  const msg = m as ServerIn;
  if (msg.type === 'start') {
    start(msg.kind, msg.sessions).then(
      (s) => {
        stop = s;
      },
      (err: unknown) => reply({ type: 'error', message: String(err) }),
    );
  } else if (msg.type === 'stop') {
    const s = stop;
    stop = undefined;
    (s ? s() : Promise.resolve(0)).finally(() => process.disconnect?.());
  }
});
