/**
 * RFC 8656 §10-§12 data path of the client, on the wire of a scripted server: Send
 * indications until a channel is confirmed, ChannelData afterwards (padded to 4 on TCP,
 * §12.5), Data indications and ChannelData delivered as 'data' events, stream framing.
 */
import { randomBytes } from 'node:crypto';
import t, { type Test } from 'tap';
import {
  AttributeType,
  decodeXorAddress,
  StunClass,
  type StunMessage,
  StunMessageBuilder,
  StunMethod,
  type TransportAddress,
} from '../../lib/stun/index.js';
import type { TurnClient } from '../../lib/turn/client.js';
import {
  decodeFrame as decode,
  type ScriptedServer,
  scriptedClient,
} from '../helpers/scripted-server.js';

const PEER: TransportAddress = { family: 4, address: '192.0.2.10', port: 5000 };
const PEER2: TransportAddress = { family: 4, address: '192.0.2.11', port: 6000 };

function success(request: StunMessage): Buffer {
  return StunMessageBuilder.responseTo(request, StunClass.success).addFingerprint().toBuffer();
}

/** Answers every request with success (no credentials configured on either side). */
function acceptAll(bytes: Buffer, s: ScriptedServer): void {
  if ((bytes[0]! & 0xc0) !== 0) return; // ChannelData
  const m = decode(bytes);
  if (m.messageClass === StunClass.request) s.send(success(m));
}

function channelData(channel: number, data: Buffer, pad: boolean): Buffer {
  const padding = pad ? (4 - (data.length % 4)) % 4 : 0;
  const out = Buffer.alloc(4 + data.length + padding);
  out.writeUInt16BE(channel, 0);
  out.writeUInt16BE(data.length, 2);
  data.copy(out, 4);
  return out;
}

function dataIndication(peer: TransportAddress, data: Buffer): Buffer {
  return new StunMessageBuilder(StunClass.indication, StunMethod.data, randomBytes(12))
    .addXorAddress(AttributeType.XOR_PEER_ADDRESS, peer)
    .add(AttributeType.DATA, data)
    .toBuffer();
}

async function setup(t: Test, kind: 'udp' | 'tcp') {
  const running = await scriptedClient(t, kind, { rtoMs: 50, closeTimeoutMs: 100 });
  running.server.onFrame = acceptAll;
  return running;
}

function nextData(client: TurnClient, ms = 2000): Promise<[TransportAddress, Buffer]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no data event')), ms);
    client.once('data', (peer, data) => {
      clearTimeout(timer);
      resolve([peer, Buffer.from(data)]);
    });
  });
}

for (const kind of ['udp', 'tcp'] as const) {
  t.test(`${kind}: Send indication until a channel is bound, ChannelData after`, async (t) => {
    const { server, client } = await setup(t, kind);
    client.send(PEER, Buffer.from('hello'));
    const indication = decode((await server.next()).bytes);
    t.equal(indication.messageClass, StunClass.indication);
    t.equal(indication.method, StunMethod.send);
    t.same(decodeXorAddress(indication, indication.get(AttributeType.XOR_PEER_ADDRESS)!), PEER);
    t.same(indication.value(AttributeType.DATA), Buffer.from('hello'));

    t.equal(await client.channelBind(PEER), 0x4000);
    const bind = decode((await server.next()).bytes);
    t.equal(bind.method, StunMethod.channelBind);
    t.same(bind.value(AttributeType.CHANNEL_NUMBER), Buffer.from([0x40, 0x00, 0, 0]));

    client.send(PEER, Buffer.from('odd'));
    client.send(PEER, Buffer.from('four'));
    const first = (await server.next()).bytes;
    const second = (await server.next()).bytes;
    const expected = (d: string) => channelData(0x4000, Buffer.from(d), kind === 'tcp');
    t.same(first, expected('odd'), kind === 'tcp' ? 'padded to 8 bytes' : 'unpadded');
    t.same(second, expected('four'));
    if (kind === 'tcp') {
      t.same(server.streamBytes.subarray(-16), Buffer.concat([expected('odd'), expected('four')]));
    }
    t.equal(client.channelOf(PEER), 0x4000);
    t.equal(client.channelOf(PEER2), undefined);
  });
}

t.test('ChannelData is not sent before the ChannelBind succeeds', async (t) => {
  const { server, client } = await setup(t, 'udp');
  let answer: (() => void) | undefined;
  server.onFrame = (bytes, s) => {
    if ((bytes[0]! & 0xc0) !== 0) return; // ChannelData
    const m = decode(bytes);
    if (m.method === StunMethod.channelBind) answer = () => s.send(success(m));
  };
  const bound = client.channelBind(PEER);
  await server.next();
  client.send(PEER, Buffer.from('early'));
  t.equal(decode((await server.next()).bytes).method, StunMethod.send, 'a Send indication');
  answer!();
  await bound;
  client.send(PEER, Buffer.from('late'));
  t.same((await server.next()).bytes, channelData(0x4000, Buffer.from('late'), false));
});

t.test('channel numbers: next free, explicit, released on failure', async (t) => {
  const { server, client } = await setup(t, 'udp');
  server.onFrame = (bytes, s) => {
    const m = decode(bytes);
    if (server.frames.length === 1) {
      s.send(
        StunMessageBuilder.responseTo(m, StunClass.error)
          .addErrorCode(400)
          .addFingerprint()
          .toBuffer(),
      );
    } else s.send(success(m));
  };
  await t.rejects(client.channelBind(PEER), {
    code: 'RTCD_TURN_CLIENT_ERROR_RESPONSE',
    stunCode: 400,
  });
  t.equal(await client.channelBind(PEER2), 0x4000, 'the failed number is free again');
  t.equal(await client.channelBind(PEER, 0x4abc), 0x4abc);
  t.equal(await client.channelBind(PEER), 0x4abc, 'a rebind keeps the number');
  await t.rejects(client.channelBind(PEER, 0x3fff), TypeError);
  await t.rejects(client.channelBind(PEER, 0x5000), TypeError);
  await t.rejects(client.channelBind({ family: 4, address: 'peer.example', port: 1 }), TypeError);
});

t.test('Data indications and ChannelData become data events', async (t) => {
  for (const kind of ['udp', 'tcp'] as const) {
    const { server, client } = await setup(t, kind);
    await client.channelBind(PEER);
    let data = nextData(client);
    server.send(dataIndication(PEER2, Buffer.from('via indication')));
    t.same(await data, [PEER2, Buffer.from('via indication')], `${kind}: Data indication`);

    data = nextData(client);
    server.send(channelData(0x4001, Buffer.from('unknown channel'), kind === 'tcp'));
    server.send(channelData(0x4000, Buffer.from('bound channel'), kind === 'tcp'));
    t.same(await data, [PEER, Buffer.from('bound channel')], `${kind}: ChannelData`);
  }
});

t.test('UDP ChannelData whose length exceeds the datagram is dropped', async (t) => {
  const { server, client } = await setup(t, 'udp');
  await client.channelBind(PEER);
  const data = nextData(client);
  const lying = channelData(0x4000, Buffer.from('abc'), false);
  lying.writeUInt16BE(100, 2);
  server.send(lying);
  server.send(channelData(0x4000, Buffer.from('honest'), false));
  t.same(await data, [PEER, Buffer.from('honest')]);
});

t.test('TCP framing: coalesced and split frames', async (t) => {
  const { server, client } = await setup(t, 'tcp');
  await client.channelBind(PEER);
  const received: string[] = [];
  client.on('data', (_peer, d) => received.push(d.toString()));
  const all = Buffer.concat([
    dataIndication(PEER, Buffer.from('one')),
    channelData(0x4000, Buffer.from('two22'), true),
    channelData(0x4000, Buffer.from('three'), true),
  ]);
  server.send(all.subarray(0, all.length - 30)); // two whole frames and a part in one write
  await new Promise((resolve) => setTimeout(resolve, 20));
  for (const byte of all.subarray(all.length - 30)) {
    server.send(Buffer.from([byte])); // then byte by byte
    await new Promise((resolve) => setImmediate(resolve));
  }
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.same(received, ['one', 'two22', 'three']);
});

t.test('TCP garbage closes the client with an error', async (t) => {
  const { server, client } = await setup(t, 'tcp');
  const errors: Error[] = [];
  client.on('error', (err) => errors.push(err));
  const closed = new Promise<void>((resolve) => client.once('close', resolve));
  server.send(Buffer.from([0xff, 0xff, 0, 0, 1, 2, 3, 4]));
  await closed;
  t.ok(client.closed);
  t.match(errors[0], { code: 'RTCD_TURN_CLIENT_TRANSPORT', message: /unframeable/ });
});

t.test('a throwing data listener is reported as error and breaks nothing', async (t) => {
  const { server, client } = await setup(t, 'udp');
  await client.createPermission([PEER.address]); // the scripted server learns our address
  const errors: Error[] = [];
  client.on('error', (err) => errors.push(err));
  let calls = 0;
  client.on('data', () => {
    calls++;
    if (calls === 1) throw new Error('listener bug');
  });
  const second = new Promise<void>((resolve) => client.on('data', () => calls === 2 && resolve()));
  server.send(dataIndication(PEER, Buffer.from('1')));
  await new Promise((resolve) => setTimeout(resolve, 30));
  server.send(dataIndication(PEER, Buffer.from('2')));
  await second;
  t.equal(errors.length, 1);
  t.match(errors[0], { message: 'listener bug' });
});
