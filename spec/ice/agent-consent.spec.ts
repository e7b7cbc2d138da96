import t from 'tap';
import { connectPair, makePair, waitState } from '../helpers/ice-pair.js';

const CONSENT = { consentIntervalMs: 50, disconnectedTimeoutMs: 250, consentTimeoutMs: 700 };

t.test('RFC 7675: consent checks keep a quiet connection alive', async (t) => {
  const [a, b] = makePair(CONSENT);
  t.teardown(() => Promise.all([a.close(), b.close()]));
  await Promise.all([a.gather(), b.gather()]);
  await connectPair(a, b);
  const states: string[] = [];
  a.on('state', (s) => states.push(s));
  b.on('state', (s) => states.push(s));
  await new Promise((r) => setTimeout(r, 1000));
  t.same(states, [], 'no state change for longer than the consent timeout');
  t.equal(a.state, 'completed');
});

t.test('RFC 7675: the peer stops answering → disconnected, then failed', async (t) => {
  const [a, b] = makePair(CONSENT);
  t.teardown(() => Promise.all([a.close(), b.close()]));
  await Promise.all([a.gather(), b.gather()]);
  await connectPair(a, b);
  const states: string[] = [];
  a.on('state', (s) => states.push(s));
  const started = Date.now();
  await b.close();
  await waitState(a, 'failed', 3000);
  const took = Date.now() - started;
  t.same(states, ['disconnected', 'failed']);
  t.ok(took >= 600 && took < 2000, `failed after the consent timeout (${took} ms)`);
  t.notOk(a.selectedPair === undefined, 'the last selected pair is still reported');
});
