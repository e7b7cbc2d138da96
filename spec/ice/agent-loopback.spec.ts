import t from 'tap';
import { connectPair, makePair } from '../helpers/ice-pair.js';

t.test('RFC 8445: two full agents connect over loopback host candidates', async (t) => {
  const [a, b] = makePair({});
  t.teardown(() => Promise.all([a.close(), b.close()]));
  const states: string[] = [];
  a.on('state', (s) => states.push(s));
  await Promise.all([a.gather(), b.gather()]);
  t.equal(a.localCandidates.length, 1);
  t.equal(a.localCandidates[0]?.type, 'host');
  await connectPair(a, b);
  t.equal(a.selectedPair?.local.type, 'host');
  t.equal(a.selectedPair?.remote.port, b.localCandidates[0]?.port);
  t.ok(b.selectedPair, 'the controlled side selected the nominated pair');
  t.ok(a.selectedPair?.nominated);
  t.same(states.slice(0, 2), ['checking', 'connected']);

  const got = new Promise<Buffer>((resolve) => b.once('data', resolve));
  t.ok(a.send(Buffer.from([0x80, 1, 2, 3])));
  t.same([...(await got)], [0x80, 1, 2, 3], 'non-STUN data reaches the other agent');
  const back = new Promise<Buffer>((resolve) => a.once('data', resolve));
  b.send(Buffer.from([0x17, 0xfe, 0xfd]));
  t.same([...(await back)], [0x17, 0xfe, 0xfd]);
});

t.test('trickle: candidates added before remote parameters and after connect()', async (t) => {
  const [a, b] = makePair({});
  t.teardown(() => Promise.all([a.close(), b.close()]));
  // b learns nothing until a's checks arrive: a's host is learned as peer-reflexive.
  const conn = Promise.all([a.connect(), b.connect()]);
  await Promise.all([a.gather(), b.gather()]);
  a.setRemoteParameters(b.localParameters);
  for (const c of b.localCandidates) a.addRemoteCandidate(c);
  a.addRemoteCandidate(null);
  await new Promise((r) => setTimeout(r, 30));
  b.setRemoteParameters(a.localParameters);
  await conn;
  t.equal(b.selectedPair?.remote.type, 'prflx', 'b knows a only from its checks');
});

t.test('states end in completed once both sides signalled end-of-candidates', async (t) => {
  const [a, b] = makePair({});
  t.teardown(() => Promise.all([a.close(), b.close()]));
  await Promise.all([a.gather(), b.gather()]);
  await connectPair(a, b);
  await new Promise((r) => setTimeout(r, 20));
  t.equal(a.state, 'completed');
  t.equal(b.state, 'completed');
  await a.close();
  t.equal(a.state, 'closed');
  t.notOk(a.send(Buffer.from([1])), 'send after close is refused');
});
