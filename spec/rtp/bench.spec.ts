import t from 'tap';
import { main, runRtpBench } from '../../bench/rtp.js';

t.test('the RTP hot path (reused view + findExtension) allocates nothing per packet', async (t) => {
  const lines: string[] = [];
  const r = await runRtpBench(0.05, 200_000, (l) => lines.push(l));
  // One small object per packet would be ≥ 16 B/packet; a fixed overhead of a few KB is not.
  t.ok(r.hotHeapBytesPerPacket < 1, `heap growth ${r.hotHeapBytesPerPacket} B/packet`);
  t.ok(r.convenienceGcRuns > r.hotGcRuns, 'the allocating API is the one that makes garbage');
  t.ok(r.hotPacketsPerSecond > 0 && r.conveniencePacketsPerSecond > 0);
  t.match(lines.join('\n'), /packets\/s/);
});

t.test('bad options are refused with exit code 1', async (t) => {
  t.equal(await main(['--seconds', '0']), 1);
});
