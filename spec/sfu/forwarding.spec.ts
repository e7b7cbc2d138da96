import t from 'tap';
import { encodeRtcp } from '../../lib/rtcp/index.js';
import {
  ExtensionElement,
  ExtensionUri,
  findExtension,
  seqAdd,
  seqDiff,
} from '../../lib/rtp/index.js';
import { OPUS, rtp, setup, VP8, vp8 } from './harness.js';

const PUB_EXT = {
  [ExtensionUri.audioLevel]: 1,
  [ExtensionUri.absSendTime]: 3,
  [ExtensionUri.mid]: 4,
};

function pubSub() {
  const s = setup();
  const alice = s.join('alice');
  const bob = s.join('bob');
  const video = alice.participant.publish({
    ...VP8,
    encodings: [{ ssrc: 1111, rtxSsrc: 1112 }],
    headerExtensions: { [ExtensionUri.absSendTime]: 3, [ExtensionUri.mid]: 4 },
  });
  return { ...s, alice, bob, video };
}

t.test('a consumer rewrites SSRC, payload type and header-extension ids', async (t) => {
  const { alice, bob, video } = pubSub();
  bob.participant.subscribe(video, {
    ssrc: 5000,
    payloadType: 100,
    headerExtensions: { [ExtensionUri.absSendTime]: 9, [ExtensionUri.mid]: 1 },
  });
  const abs = Uint8Array.from([1, 2, 3]);
  alice.participant.receiveRtp(
    rtp({
      ssrc: 1111,
      seq: 10,
      ts: 90000,
      payload: vp8(true),
      extensions: [
        { id: 3, value: abs },
        { id: 4, value: Buffer.from('0') },
      ],
    }),
  );
  t.equal(bob.rtp.length, 1);
  const p = bob.rtp[0]!;
  t.equal(p.ssrc, 5000);
  t.equal(p.payloadType, 100);
  t.same(p.getExtension(9), abs, 'abs-send-time moved to the subscriber id');
  t.equal(p.getExtension(3), undefined, 'publisher id gone');
  t.equal(p.getExtension(4), undefined, 'the publisher mid is not forwarded');
  t.equal(p.getExtension(1), undefined);
  t.same(p.payload(), vp8(true), 'payload untouched');
});

t.test('video waits for a key frame; sequence and timestamp keep the source deltas', async (t) => {
  const { alice, bob, video } = pubSub();
  bob.participant.subscribe(video, { ssrc: 5000, payloadType: 96 });
  alice.participant.receiveRtp(rtp({ ssrc: 1111, seq: 65000, ts: 0 }));
  t.equal(bob.rtp.length, 0, 'inter frame before any key frame is not forwarded');
  const seqs = [65533, 65534, 65535, 0, 2, 1, 3];
  alice.participant.receiveRtp(rtp({ ssrc: 1111, seq: 65532, ts: 4294960000, payload: vp8(true) }));
  for (const [i, s] of seqs.entries()) {
    alice.participant.receiveRtp(
      rtp({ ssrc: 1111, seq: s, ts: (4294960000 + (i + 1) * 3000) >>> 0 }),
    );
  }
  t.equal(bob.rtp.length, 8);
  const base = bob.rtp[0]!;
  const inSeqs = [65532, ...seqs];
  for (const [i, p] of bob.rtp.entries()) {
    t.equal(seqDiff(p.sequenceNumber, base.sequenceNumber), seqDiff(inSeqs[i]!, 65532));
    t.equal((p.timestamp - base.timestamp) >>> 0, i * 3000, 'timestamps across the 2^32 wrap');
  }
});

t.test('audio forwards from the first packet; a duplicate is forwarded once', async (t) => {
  const s = setup();
  const alice = s.join('alice');
  const bob = s.join('bob');
  const mic = alice.participant.publish({ ...OPUS, encodings: [{ ssrc: 42 }] });
  bob.participant.subscribe(mic, { ssrc: 77, payloadType: 109 });
  const pkt = rtp({ ssrc: 42, seq: 5, ts: 960, pt: 111, payload: Buffer.from([0xfc, 1]) });
  alice.participant.receiveRtp(pkt);
  alice.participant.receiveRtp(pkt);
  t.equal(bob.rtp.length, 1);
  t.equal(bob.rtp[0]!.payloadType, 109);
  t.equal(alice.participant.stats.dropped['unknown-payload-type'], undefined);
  alice.participant.receiveRtp(rtp({ ssrc: 42, seq: 6, ts: 1920, pt: 13 }));
  t.equal(alice.participant.stats.dropped['unknown-payload-type'], 1, 'other PTs dropped, counted');
});

t.test('switching source (resume after pause) continues the sequence with no gap', async (t) => {
  const { alice, bob, video, clock } = pubSub();
  const c = bob.participant.subscribe(video, { ssrc: 5000, payloadType: 96 });
  alice.participant.receiveRtp(rtp({ ssrc: 1111, seq: 100, ts: 1000, payload: vp8(true) }));
  alice.participant.receiveRtp(rtp({ ssrc: 1111, seq: 101, ts: 4000 }));
  c.setPaused(true);
  for (let s = 102; s < 140; s++)
    alice.participant.receiveRtp(rtp({ ssrc: 1111, seq: s, ts: 4000 + s }));
  t.equal(bob.rtp.length, 2, 'nothing while paused');
  clock.t += 500;
  c.setPaused(false);
  alice.participant.receiveRtp(rtp({ ssrc: 1111, seq: 140, ts: 50000 }));
  t.equal(bob.rtp.length, 2, 'resumes on a key frame only');
  alice.participant.receiveRtp(rtp({ ssrc: 1111, seq: 141, ts: 54000, payload: vp8(true) }));
  t.equal(bob.rtp.length, 3);
  const [a, b, r] = bob.rtp;
  t.equal(r!.sequenceNumber, seqAdd(b!.sequenceNumber, 1), 'next sequence number');
  t.equal(a!.ssrc, r!.ssrc);
  t.equal((r!.timestamp - b!.timestamp) >>> 0, 45000, 'timestamp advanced by the 500 ms elapsed');
});

t.test('unnegotiated extensions become padding; transport-cc gets the leg numbering', async (t) => {
  const s = setup();
  const alice = s.join('alice');
  const bob = s.join('bob');
  const twcc = ExtensionUri.transportWideCc;
  const mic = alice.participant.publish({
    ...OPUS,
    encodings: [{ ssrc: 42 }],
    headerExtensions: { ...PUB_EXT, [twcc]: 5 },
  });
  bob.participant.subscribe(mic, { ssrc: 77, payloadType: 111, headerExtensions: { [twcc]: 2 } });
  for (let i = 0; i < 3; i++) {
    alice.participant.receiveRtp(
      rtp({
        ssrc: 42,
        seq: 10 + i,
        ts: 960 * i,
        pt: 111,
        extensions: [
          { id: 1, value: Uint8Array.from([0x85]) },
          { id: 5, value: Uint8Array.from([0x99, 0x99]) },
        ],
      }),
    );
  }
  const el = new ExtensionElement();
  t.equal(bob.rtp.length, 3);
  for (const [i, p] of bob.rtp.entries()) {
    t.notOk(findExtension(p, 1, el), 'audio level not negotiated by the subscriber');
    t.ok(findExtension(p, 2, el));
    t.equal((p.buffer[el.offset]! << 8) | p.buffer[el.offset + 1]!, i, 'leg sequence from 0');
  }
});

t.test('H.264: forwarding starts at the STAP-A SPS/PPS, FU-A fragments follow', async (t) => {
  const s = setup();
  const alice = s.join('alice');
  const bob = s.join('bob');
  const video = alice.participant.publish({
    kind: 'video',
    mimeType: 'video/H264',
    payloadType: 102,
    clockRate: 90000,
    encodings: [{ ssrc: 3 }],
  });
  const c = bob.participant.subscribe(video, { ssrc: 30, payloadType: 125 });
  const send = (seq: number, payload: number[]) =>
    alice.participant.receiveRtp(
      rtp({ ssrc: 3, seq, ts: 0, pt: 102, payload: Buffer.from(payload) }),
    );
  send(1, [0x7c, 0x05, 0xaa]); // FU-A middle of an IDR: no start point
  send(2, [0x41, 0x9a]); // P slice
  t.equal(bob.rtp.length, 0);
  send(3, [0x18, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce]); // STAP-A SPS + PPS
  send(4, [0x7c, 0x85, 0x88]); // FU-A start of IDR
  send(5, [0x7c, 0x45, 0x88]); // FU-A end
  t.equal(bob.rtp.length, 3);
  t.equal(c.currentLayer, 0);
  t.same([...bob.rtp[1]!.payload()], [0x7c, 0x85, 0x88]);
  t.ok(bob.rtp.every((p) => p.payloadType === 125 && p.ssrc === 30));
});

t.test(
  'an extension the subscriber numbered over 14 is dropped from one-byte packets',
  async (t) => {
    const s = setup();
    const alice = s.join('alice');
    const bob = s.join('bob');
    const mic = alice.participant.publish({
      ...OPUS,
      encodings: [{ ssrc: 42 }],
      headerExtensions: { [ExtensionUri.audioLevel]: 1, [ExtensionUri.absSendTime]: 2 },
    });
    bob.participant.subscribe(mic, {
      ssrc: 77,
      payloadType: 111,
      headerExtensions: { [ExtensionUri.audioLevel]: 20, [ExtensionUri.absSendTime]: 3 },
    });
    alice.participant.receiveRtp(
      rtp({
        ssrc: 42,
        seq: 1,
        ts: 0,
        pt: 111,
        extensions: [
          { id: 1, value: Uint8Array.from([0x85]) },
          { id: 2, value: Uint8Array.from([1, 2, 3]) },
        ],
      }),
    );
    t.equal(bob.rtp.length, 1, 'forwarded, not thrown');
    t.equal(bob.rtp[0]!.getExtension(20), undefined);
    t.same(bob.rtp[0]!.getExtension(3), Uint8Array.from([1, 2, 3]));
  },
);

t.test(
  'a consumer with a mid carries it in sdes:mid (RFC 8843), other elements mapped',
  async (t) => {
    const { alice, bob, video } = pubSub();
    const c = bob.participant.subscribe(video, {
      ssrc: 5000,
      payloadType: 96,
      rtx: { ssrc: 5001, payloadType: 97 },
      mid: 'v1',
      headerExtensions: { [ExtensionUri.absSendTime]: 2, [ExtensionUri.mid]: 4 },
    });
    const send = (seq: number, key: boolean) =>
      alice.participant.receiveRtp(
        rtp({
          ssrc: 1111,
          seq,
          ts: seq * 10,
          marker: true,
          payload: vp8(key),
          extensions: [
            { id: 3, value: Uint8Array.from([7, 8, 9]) },
            { id: 4, value: Buffer.from('0') },
          ],
        }),
      );
    send(1, true);
    send(2, false);
    t.equal(bob.rtp.length, 2);
    const [a, b] = bob.rtp;
    t.same(Buffer.from(a!.getExtension(4)!).toString(), 'v1', "the subscriber's mid");
    t.same(a!.getExtension(2), Uint8Array.from([7, 8, 9]));
    t.equal(a!.getExtension(3), undefined);
    t.ok(a!.marker);
    t.equal(a!.ssrc, 5000);
    t.same(a!.payload(), vp8(true));
    t.equal(b!.sequenceNumber, (a!.sequenceNumber + 1) & 0xffff);
    t.equal((b!.timestamp - a!.timestamp) >>> 0, 10);
    bob.participant.receiveRtcp(
      encodeRtcp([
        {
          kind: 'nack',
          senderSsrc: 1,
          mediaSsrc: 5000,
          pairs: [{ pid: b!.sequenceNumber, blp: 0 }],
        },
      ]),
    );
    t.equal(c.retransmissionsSent, 1);
    const r = bob.rtp[2]!;
    t.equal(r.ssrc, 5001);
    t.same(Buffer.from(r.getExtension(4)!).toString(), 'v1', 'the RTX packet carries it too');
  },
);
