import t from 'tap';
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
