/**
 * Regression: making X25519 key shares must never deadlock. On Node 20, exporting a key from
 * generateKeyPairSync as JWK holds the key's mutex while allocating; a GC in that allocation
 * that collects the key-generation job runs its destructor, which takes the same mutex: the
 * process waits on itself for ever (the SFU bench's SFU froze in ~1 run in 8). A child with a
 * 1 MB young generation (a scavenge every few hundred shares) makes 20,000 shares and does the
 * ECDHE of each; the JWK-export version of this loop hung within 20,000 every time we tried.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import t from 'tap';

const run = promisify(execFile);
const module = new URL('../../lib/dtls/ecdhe.ts', import.meta.url).href;

t.test('20,000 X25519 key shares and secrets under frequent GC finish (no deadlock)', async (t) => {
  const script = `
    const { generateKeyShare, NamedGroup } = await import(${JSON.stringify(module)});
    const peer = generateKeyShare(NamedGroup.x25519);
    let agreed = 0;
    for (let i = 0; i < 20000; i++) {
      const ours = generateKeyShare(NamedGroup.x25519);
      const a = ours.computeSecret(peer.publicKey);
      if (a !== undefined && a.equals(peer.computeSecret(ours.publicKey))) agreed++;
      // garbage, so scavenges keep coming while keys are made and exported
      for (let j = 0; j < 20; j++) ({ j, s: 'x'.repeat(j) });
    }
    console.log(JSON.stringify({ agreed }));`;
  const { stdout } = await run(
    process.execPath,
    ['--max-semi-space-size=1', '--import', 'tsx', '--input-type=module', '-e', script],
    // SIGKILL: a deadlocked child never runs the handler tsx installs for SIGTERM.
    { timeout: 25_000, killSignal: 'SIGKILL' },
  );
  t.same(JSON.parse(stdout), { agreed: 20000 }, 'every share made and every secret agreed');
});
