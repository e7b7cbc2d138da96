import t from 'tap';
import { connectPair, makePair, signal } from '../helpers/ice-pair.js';

t.test('RFC 8445 §9: ICE restart with new credentials; data flows throughout', async (t) => {
  const [a, b] = makePair({});
  t.teardown(() => Promise.all([a.close(), b.close()]));
  await Promise.all([a.gather(), b.gather()]);
  await connectPair(a, b);
  const before = a.localParameters;
  const pa = a.restart();
  const pb = b.restart();
  t.not(pa.ufrag, before.ufrag, 'new ufrag');
  t.not(pa.pwd, before.pwd, 'new pwd');
  t.equal(a.state, 'checking');
  const got = new Promise<Buffer>((resolve) => b.once('data', resolve));
  t.ok(a.send(Buffer.from([0x80, 9])), 'the old pair still carries data');
  t.same([...(await got)], [0x80, 9]);
  signal(a, b);
  signal(b, a);
  await Promise.all([a.connect(), b.connect()]);
  t.equal(a.localParameters.ufrag, pa.ufrag);
  t.equal(b.localParameters.ufrag, pb.ufrag);
  t.ok(a.selectedPair?.nominated);
  const got2 = new Promise<Buffer>((resolve) => a.once('data', resolve));
  b.send(Buffer.from([0x80, 10]));
  t.same([...(await got2)], [0x80, 10]);
});
