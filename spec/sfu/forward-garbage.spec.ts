/**
 * The router's forwarding path makes no garbage per forwarded packet: a child process under
 * the SFU's `--max-semi-space-size=1` forwards 100,000 packets (2,000 to 50 subscribers,
 * transport-cc and audio-level extensions rewritten) and must see almost no scavenges. One
 * 100-byte Buffer view per forwarded packet, as before the shared copy buffer, makes 10 MB of
 * garbage here: ~10 scavenges and ~125 B per packet (sampled).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';

const child = fileURLToPath(new URL('./forward-garbage-child.ts', import.meta.url));

t.test('forwarding allocates (almost) nothing per packet once warm', async (t) => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--max-semi-space-size=1', '--import', 'tsx', child],
    { timeout: 60_000 },
  );
  const r = JSON.parse(stdout) as {
    forwarded: number;
    scavenges: number;
    bytesPerForwarded: number;
  };
  t.equal(r.forwarded, 100_000, 'every packet reached every subscriber');
  t.ok(r.scavenges <= 4, `${r.scavenges} scavenges per 100k forwarded (at most 4)`);
  t.ok(
    r.bytesPerForwarded < 40,
    `${r.bytesPerForwarded.toFixed(1)} B of JS heap per forwarded packet (under 40): ${stdout}`,
  );
});
