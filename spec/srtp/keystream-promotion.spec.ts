/**
 * Keystream runs must not leak ArrayBuffers into the old generation. A run serves 16 packets
 * of one stream (~160 ms at 100 packets/s); when it held node:crypto's fresh ECB result, that
 * buffer lived through scavenges into the old generation, where only mark-sweeps free
 * ArrayBuffers, and a busy SFU paid 10–25 ms full GCs several times a second. A run now
 * copies each result into a buffer it keeps, so the results die young. The child forces
 * frequent scavenges (SFU-like short-lived garbage) while 300 GCM sessions protect video
 * packets: it must see at most 2 major GCs (1 in each run here; the version that kept the fresh
 * buffers: 9–10).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';

const child = fileURLToPath(new URL('./keystream-promotion-child.ts', import.meta.url));

t.test('keystream runs free their ECB results young (no run of mark-sweeps)', async (t) => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--max-semi-space-size=1', '--import', 'tsx', child, '1000'],
    { timeout: 60_000 },
  );
  const r = JSON.parse(stdout) as { packets: number; major: number; minor: number };
  t.equal(r.packets, 284_700);
  t.ok(r.minor > 20, `the garbage forced scavenges (${r.minor})`);
  t.ok(r.major <= 2, `at most 2 mark-sweeps while protecting ${r.packets} packets: ${stdout}`);
});
