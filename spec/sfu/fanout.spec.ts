/**
 * The per-packet fan-out of a producer: fair order across subscribers, a snapshot of the
 * subscriptions that follows subscribe/close, and per-subscriber rewriting from one parse of
 * the incoming packet (extension ids and the leg's transport-cc number on originals and on
 * RTX retransmissions alike).
 */
import t from 'tap';
import { encodeRtcp, nackPairsFromSequences } from '../../lib/rtcp/index.js';
import {
  ExtensionElement,
  ExtensionUri,
  findExtension,
  type RtpPacket,
  rtxOriginalSequenceNumber,
} from '../../lib/rtp/index.js';
import type { Participant } from '../../lib/sfu/index.js';
import { rtp, setup, VP8, vp8 } from './harness.js';

const twcc = ExtensionUri.transportWideCc;

t.test('each packet fan-out starts one subscriber further on', async (t) => {
  const { room } = setup();
  const pub = room.join({ id: 'pub', sendRtp: () => {}, sendRtcp: () => {} });
  const video = pub.publish({ ...VP8, encodings: [{ ssrc: 1 }] });
  const order: string[] = [];
  const subs: Participant[] = [];
  for (const id of ['a', 'b', 'c']) {
    const p = room.join({ id, sendRtp: () => order.push(id), sendRtcp: () => {} });
    p.subscribe(video, { ssrc: 100 + subs.length, payloadType: 96 });
    subs.push(p);
  }
  pub.receiveRtp(rtp({ ssrc: 1, seq: 1, ts: 0, payload: vp8(true) }));
  for (let s = 2; s <= 6; s++) pub.receiveRtp(rtp({ ssrc: 1, seq: s, ts: s }));
  const firsts = [0, 3, 6, 9, 12, 15].map((i) => order[i]);
  t.same(firsts, ['a', 'b', 'c', 'a', 'b', 'c'], 'first served rotates');
  for (let k = 0; k < 6; k++) {
    t.same(order.slice(3 * k, 3 * k + 3).sort(), ['a', 'b', 'c'], `packet ${k}: all three`);
  }
  order.length = 0;
  subs[1]!.close();
  const d = room.join({ id: 'd', sendRtp: () => order.push('d'), sendRtcp: () => {} });
  d.subscribe(video, { ssrc: 200, payloadType: 96 });
  pub.receiveRtp(rtp({ ssrc: 1, seq: 7, ts: 7, payload: vp8(true) }));
  t.same(order.slice().sort(), ['a', 'c', 'd'], 'closed one skipped, new one served');
  order.length = 0;
  subs[0]!.close();
  subs[2]!.close();
  pub.receiveRtp(rtp({ ssrc: 1, seq: 8, ts: 8 }));
  t.same(order, ['d'], 'two closed between packets, same count as before: list remade');
});

t.test('a subscriber closed by an earlier one in the same fan-out gets nothing', async (t) => {
  const { room } = setup();
  const pub = room.join({ id: 'pub', sendRtp: () => {}, sendRtcp: () => {} });
  const video = pub.publish({ ...VP8, encodings: [{ ssrc: 1 }] });
  const got: string[] = [];
  let b: Participant | undefined;
  const a = room.join({
    id: 'a',
    sendRtp: () => {
      got.push('a');
      b?.close();
    },
    sendRtcp: () => {},
  });
  b = room.join({ id: 'b', sendRtp: () => got.push('b'), sendRtcp: () => {} });
  a.subscribe(video, { ssrc: 10, payloadType: 96 });
  b.subscribe(video, { ssrc: 11, payloadType: 96 });
  pub.receiveRtp(rtp({ ssrc: 1, seq: 1, ts: 0, payload: vp8(true) }));
  t.same(got, ['a'], 'b closed while a was served');
  pub.receiveRtp(rtp({ ssrc: 1, seq: 2, ts: 1 }));
  t.same(got, ['a', 'a']);
});

t.test('subscribers with their own extension ids, originals and RTX alike', async (t) => {
  const s = setup();
  const alice = s.join('alice');
  const bob = s.join('bob');
  const carol = s.join('carol');
  const video = alice.participant.publish({
    ...VP8,
    encodings: [{ ssrc: 1111, rtxSsrc: 1112 }],
    headerExtensions: { [ExtensionUri.absSendTime]: 3, [ExtensionUri.mid]: 4, [twcc]: 5 },
  });
  bob.participant.subscribe(video, {
    ssrc: 500,
    payloadType: 100,
    rtx: { ssrc: 501, payloadType: 101 },
    headerExtensions: { [ExtensionUri.absSendTime]: 2, [twcc]: 7 },
  });
  carol.participant.subscribe(video, {
    ssrc: 600,
    payloadType: 96,
    headerExtensions: { [ExtensionUri.absSendTime]: 9, [ExtensionUri.mid]: 1 },
  });
  const ext = [
    { id: 4, value: Buffer.from('v') },
    { id: 3, value: Uint8Array.from([1, 2, 3]) },
    { id: 5, value: Uint8Array.from([0xff, 0xff]) },
  ];
  alice.participant.receiveRtp(
    rtp({ ssrc: 1111, seq: 10, ts: 0, payload: vp8(true), extensions: ext }),
  );
  for (let q = 11; q < 14; q++) {
    alice.participant.receiveRtp(rtp({ ssrc: 1111, seq: q, ts: q, extensions: ext }));
  }
  const el = new ExtensionElement();
  const tcc = (p: RtpPacket): number => {
    t.ok(findExtension(p, 7, el), 'transport-cc under the subscriber id');
    return (p.buffer[el.offset]! << 8) | p.buffer[el.offset + 1]!;
  };
  t.equal(bob.rtp.length, 4);
  t.equal(carol.rtp.length, 4);
  for (const [i, p] of bob.rtp.entries()) {
    t.equal(p.ssrc, 500);
    t.equal(p.payloadType, 100);
    t.ok(findExtension(p, 2, el) && el.length === 3, 'abs-send-time 3 → 2');
    t.notOk(findExtension(p, 4, el) || findExtension(p, 3, el), 'mid never forwarded');
    t.equal(tcc(p), i, 'leg transport-cc numbering');
  }
  for (const p of carol.rtp) {
    t.equal(p.ssrc, 600);
    t.ok(findExtension(p, 9, el) && el.length === 3, 'abs-send-time 3 → 9');
    t.notOk(findExtension(p, 1, el), 'mid: not forwarded even when the subscriber has it');
    t.notOk(findExtension(p, 7, el) || findExtension(p, 5, el), 'no transport-cc negotiated');
  }
  const nack = encodeRtcp([
    {
      kind: 'nack',
      senderSsrc: 9,
      mediaSsrc: 500,
      pairs: nackPairsFromSequences([bob.rtp[1]!.sequenceNumber]),
    },
  ]);
  const original = bob.rtp[1]!;
  bob.rtp.length = 0;
  bob.participant.receiveRtcp(nack);
  t.equal(bob.rtp.length, 1);
  const r = bob.rtp[0]!;
  t.equal(r.ssrc, 501, 'RTX');
  t.equal(rtxOriginalSequenceNumber(r), original.sequenceNumber);
  t.ok(findExtension(r, 2, el) && el.length === 3, 'RTX keeps the mapped ids');
  t.equal(tcc(r), 4, 'RTX takes the next transport-cc number of the leg');
  t.same(r.payload().subarray(2), original.payload());
});
