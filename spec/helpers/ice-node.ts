/**
 * A child process for the NAT specs, run inside a network namespace:
 *
 *   node --import tsx spec/helpers/ice-node.ts turn <listen-ip> <allowed-peer-cidr>…
 *   node --import tsx spec/helpers/ice-node.ts agent '<IceAgentOptions as JSON>'
 *
 * It talks JSON lines: events on stdout (`ready`, `params`, `candidate`, `gathering-complete`,
 * `state`, `selected`, `data`, `error`), commands on stdin (`remote`, `candidate`, `end`,
 * `connect`, `send`). Closing stdin stops it.
 */
import { createInterface } from 'node:readline';
import { IceAgent } from '../../lib/ice/agent.js';
import type { IceAgentOptions } from '../../lib/ice/agent-options.js';
import { formatCandidate, parseCandidate } from '../../lib/ice/candidate.js';
import { TurnServer } from '../../lib/turn/server.js';

const out = (m: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(m)}\n`);
};

const [mode, ...args] = process.argv.slice(2);

if (mode === 'turn') {
  const [host, ...allowPeers] = args;
  const server = new TurnServer({
    listen: [{ host: host!, port: 3478 }],
    realm: 'rtcd.test',
    users: { nat: 'nat-pw' },
    allowPeers,
    drainTimeoutMs: 0,
  });
  await server.start();
  out({ event: 'ready', port: server.addresses.udp[0]?.port });
  createInterface({ input: process.stdin }).on('close', () => {
    void server.close().then(() => process.exit(0));
  });
} else if (mode === 'agent') {
  const options = JSON.parse(args[0] ?? '{}') as IceAgentOptions;
  const agent = new IceAgent(options);
  agent.on('candidate', (c) => out({ event: 'candidate', line: formatCandidate(c) }));
  agent.on('gathering-complete', () => out({ event: 'gathering-complete' }));
  agent.on('state', (s) => out({ event: 'state', state: s }));
  agent.on('selected-pair', (p) =>
    out({
      event: 'selected',
      local: { type: p.local.type, address: p.local.address, port: p.local.port },
      remote: { type: p.remote.type, address: p.remote.address, port: p.remote.port },
    }),
  );
  agent.on('data', (d) => out({ event: 'data', hex: d.toString('hex') }));
  out({ event: 'params', ...agent.localParameters });
  createInterface({ input: process.stdin })
    .on('line', (line) => {
      const cmd = JSON.parse(line) as Record<string, string>;
      if (cmd.cmd === 'remote') agent.setRemoteParameters({ ufrag: cmd.ufrag!, pwd: cmd.pwd! });
      else if (cmd.cmd === 'candidate') {
        const c = parseCandidate(cmd.line!);
        if (c !== undefined) agent.addRemoteCandidate(c);
      } else if (cmd.cmd === 'end') agent.addRemoteCandidate(null);
      else if (cmd.cmd === 'connect') {
        agent.connect().catch((err: Error) => out({ event: 'error', message: err.message }));
      } else if (cmd.cmd === 'send') agent.send(Buffer.from(cmd.hex!, 'hex'));
    })
    .on('close', () => {
      void agent.close().then(() => process.exit(0));
    });
  await agent.gather();
} else {
  process.stderr.write('usage: ice-node.ts turn|agent …\n');
  process.exit(2);
}
