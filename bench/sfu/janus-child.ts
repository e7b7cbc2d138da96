/**
 * Child process of the SFU bench's Janus rows, run inside Janus's network namespace: the same
 * rooms, packets and measurement as bench/sfu/client-child.ts (both run by
 * bench/sfu/child-core.ts), with clients signalled over Janus's HTTP API
 * (bench/sfu/janus-client.ts). Speaks the bench's `ClientIn`/`ClientOut` messages; `url` is
 * Janus's API and `udpPort` is unused (Janus gives each PeerConnection its own port).
 */
import { generateCertificate } from '../../lib/dtls/certificate.js';
import { PROFILE, runClientChild } from './child-core.js';
import { JanusSession } from './janus-api.js';
import { JanusClient } from './janus-client.js';
import { JANUS_ADDRESS } from './janus-server.js';

const certificate = generateCertificate({ commonName: 'sfu-bench-janus-client' });
let session: JanusSession | undefined;
let ufrags = 0;

/** Janus rooms are numbered: `call7` → 1007 (unique across child processes). */
const roomNumber = (id: string): number => 1000 + Number(/\d+$/.exec(id)?.[0] ?? 0);

runClientChild<JanusClient>({
  open: async (url) => {
    session ??= await JanusSession.create(url);
    return JanusClient.open({
      certificate: await certificate,
      session,
      address: JANUS_ADDRESS,
      ufrag: `j${process.pid.toString(36)}c${(ufrags++).toString(36)}`,
      profile: PROFILE,
    });
  },
  publish: (client, room, ssrc) => client.publish(roomNumber(room), ssrc),
  subscribe: (client, room, feed) => client.subscribe(roomNumber(room), feed),
  publisherRef: (client) => client.feed,
  fromServer: (client, from) => from.port === client.remote?.port,
  payloadType: (client) => client.remote?.vp8 ?? 96,
  address: JANUS_ADDRESS,
  concurrentConnects: 8,
  // Rooms one after another: Janus's API and its per-handle threads set up more slowly
  // than rtcd's, and the subscribers inside a room already go a few at a time.
  concurrentRooms: 1,
  label: 'sfu-bench janus',
  closed: async () => {
    await session?.destroy();
  },
});
