/**
 * Child process of the end-to-end SFU bench: synthetic rtcd clients for rooms
 * (bench/sfu/light-client.ts, signalled by WHIP/WHEP POSTs to the SFU under test), run by
 * bench/sfu/child-core.ts: the rooms, packets, `sfu` and `direct` phases and measurement it
 * shares with the Janus rows' child (bench/sfu/janus-child.ts).
 */
import { generateCertificate } from '../../lib/dtls/certificate.js';
import { PROFILE, runClientChild } from './child-core.js';
import { LightClient } from './light-client.js';

const PT = 96;

const certificate = generateCertificate({ commonName: 'sfu-bench-client' });
let ufrags = 0;

runClientChild<LightClient>({
  open: async (url, udpPort) =>
    LightClient.open({
      certificate: await certificate,
      url,
      udpPort,
      ufrag: `b${process.pid.toString(36)}c${(ufrags++).toString(36)}`,
      profile: PROFILE,
    }),
  publish: (client, room, ssrc) => client.connect('whip', room, ssrc),
  subscribe: (client, room) => client.connect('whep', room),
  publisherRef: () => 0, // WHEP subscribes to the room's tracks: no name needed
  fromServer: (client, from) => from.port === client.options.udpPort,
  payloadType: () => PT,
  address: '127.0.0.1',
  concurrentConnects: 12,
  concurrentRooms: 4,
  label: 'sfu-bench',
});
