/**
 * Generator flows through a TURN server: each flow is a TurnClient that allocates, binds a
 * channel to its sink, then sends pre-framed ChannelData with `sendRaw` — one `send` on a
 * connected socket per packet, exactly what the `direct` and `bare` flows do, so the rows
 * differ only by the server in the path.
 */
import { writeChannelDataHeader } from '../../lib/turn/channel-data.js';
import { TurnClient } from '../../lib/turn/client.js';
import type { Flow } from './generator.js';
import { type Endpoint, type FlowSpec, STEP_OFFSET } from './protocol.js';

async function turnFlow(server: Endpoint, spec: FlowSpec, payloadSize: number): Promise<Flow> {
  const client = await TurnClient.connect({
    server,
    localAddress: '127.0.0.1',
    ...(spec.credentials ?? {}),
  });
  try {
    await client.allocate();
    const peer = { family: 4 as const, address: spec.sink.host, port: spec.sink.port };
    const channel = await client.channelBind(peer);
    const frame = Buffer.alloc(4 + payloadSize, 0x5a);
    writeChannelDataHeader(frame, 0, channel, payloadSize);
    return {
      stamp(step) {
        frame.writeUInt32BE(step, 4 + STEP_OFFSET);
      },
      send() {
        client.sendRaw(frame);
      },
      close: () => client.close(),
    };
  } catch (err) {
    await client.close();
    throw err;
  }
}

/** Sets the flows up a few at a time (each is two or three request/response round trips). */
export async function turnFlows(
  server: Endpoint,
  specs: FlowSpec[],
  payloadSize: number,
): Promise<Flow[]> {
  const flows: Flow[] = [];
  try {
    for (let i = 0; i < specs.length; i += 4) {
      const batch = specs.slice(i, i + 4).map((s) => turnFlow(server, s, payloadSize));
      const settled = await Promise.allSettled(batch);
      for (const s of settled) if (s.status === 'fulfilled') flows.push(s.value);
      const failed = settled.find((s) => s.status === 'rejected');
      if (failed) throw failed.reason;
    }
  } catch (err) {
    await Promise.allSettled(flows.map((f) => f.close()));
    throw err;
  }
  return flows;
}
