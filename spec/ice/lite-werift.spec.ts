/**
 * werift's full ICE agent (controlling, told the remote is lite: RFC 8445 §6.1.1) connects to
 * our ICE-lite mux over UDP host candidates, nominates, and packets flow both ways through
 * the mux's address-based routing. A peer nobody here wrote, beside Chromium.
 */
import { once } from 'node:events';
import t from 'tap';
import { Candidate } from 'werift';
import { IceLiteMux } from '../../lib/ice/udp-mux.js';
import { resendUntil, weriftAgent } from '../helpers/werift-ice.js';

t.setTimeout(60_000);

t.test('werift (controlling, remote lite) connects and exchanges packets', async (t) => {
  const mux = await IceLiteMux.bind({ address: '127.0.0.1' });
  t.teardown(() => mux.close());
  const theirs = weriftAgent({ controlling: true });
  t.teardown(() => theirs.close());
  await theirs.gatherCandidates();
  const session = mux.createSession({
    remoteUfrag: theirs.localUsername,
    remotePwd: theirs.localPassword,
  });
  const connected = once(session, 'connected');
  theirs.setRemoteParams({
    iceLite: true,
    usernameFragment: session.localUfrag,
    password: session.localPwd,
  });
  for (const c of mux.candidates)
    await theirs.addRemoteCandidate(Candidate.fromSdp(c.slice('candidate:'.length)));
  await theirs.addRemoteCandidate(undefined);
  await theirs.connect();
  const [remote] = await connected;
  t.equal(remote.address, '127.0.0.1');
  t.ok(theirs.nominated, 'werift nominated the pair');
  const [packet, cls] = await resendUntil(once(session, 'data'), () =>
    theirs.send(Buffer.from([0x80, 0x60, 0, 1])).catch(() => {}),
  );
  t.same([...packet], [0x80, 0x60, 0, 1]);
  t.equal(cls, 'rtp');
  const back = new Promise<Buffer>((resolve) => theirs.onData.once((d) => resolve(d)));
  let sent = true;
  const echoed = await resendUntil(back, () => {
    sent &&= session.send(Buffer.from([0x80, 0x60, 0, 2]));
  });
  t.ok(sent, 'the session sent every copy');
  t.same([...echoed], [0x80, 0x60, 0, 2]);
  t.equal(mux.counters().drops['bad-integrity'] ?? 0, 0);
});
