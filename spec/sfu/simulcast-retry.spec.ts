/**
 * A simulcast switch waits for a key frame of the target layer; when the publisher drops the
 * request (Chromium answered only some PLIs of mid-stream switches in e2e-simulcast), the
 * producer asks again on its tick, throttled per layer, until the switch happens.
 */
import t from 'tap';
import { ofKind, rtp, setup, VP8, vp8 } from './harness.js';

t.test('a switch whose key frame does not come is asked for again until it does', async (t) => {
  const s = setup({ keyFrameRequestIntervalMs: 500 });
  const alice = s.join('alice');
  const bob = s.join('bob');
  const video = alice.participant.publish({
    ...VP8,
    encodings: [{ ssrc: 100 }, { ssrc: 200 }, { ssrc: 300 }],
  });
  const seq = [1, 1, 1];
  const send = (layer: number, key = false) => {
    const n = seq[layer]!++;
    const ssrc = [100, 200, 300][layer]!;
    alice.participant.receiveRtp(rtp({ ssrc, seq: n, ts: n * 3000, payload: vp8(key) }));
  };
  const plis = () => ofKind(alice.rtcp, 'pli').map((p) => p.mediaSsrc);
  const tick = (ms: number) => {
    s.clock.t += ms;
    alice.participant.tick(s.clock.t);
  };
  const consumer = bob.participant.subscribe(video, { ssrc: 5000, payloadType: 96 });
  t.same(plis(), [300], 'the first request, for the top layer');
  tick(100);
  t.same(plis(), [300], 'not again within the interval');
  tick(450);
  t.same(plis(), [300, 300], 'no key frame yet: asked again after the interval');
  send(0);
  send(1);
  send(2, true);
  t.equal(consumer.currentLayer, 2);

  consumer.setPreferredLayer(0);
  t.same(plis(), [300, 300, 100], 'the switch asks layer 0');
  for (let i = 0; i < 10; i++) {
    send(0);
    send(2);
    tick(60);
  }
  t.equal(consumer.currentLayer, 2, 'still on layer 2: layer 0 sent no key frame');
  t.same(plis(), [300, 300, 100, 100], 'layer 0 asked again once per interval');
  send(0, true);
  t.equal(consumer.currentLayer, 0, 'switched at layer 0’s key frame');
  const settled = plis().length;
  tick(600);
  tick(600);
  t.equal(plis().length, settled, 'no more requests once the switch happened');

  consumer.setPaused(true);
  consumer.setPreferredLayer(1);
  const paused = plis().length;
  tick(600);
  tick(600);
  t.equal(plis().length, paused, 'a paused consumer does not ask');
});
