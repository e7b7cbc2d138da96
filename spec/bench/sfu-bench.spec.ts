import t from 'tap';
import { main, runSfuBench } from '../../bench/sfu.js';

t.test('the SFU bench forwards through the router and SRTP in a tiny run', async (t) => {
  const r = runSfuBench({
    seconds: 0.05,
    subscribers: 3,
    memorySubscribers: 20,
    profile: 'AES_CM_128_HMAC_SHA1_80',
  });
  t.ok(r.forwardedPerCpuSecond > 0, `${r.forwardedPerCpuSecond} packets/s`);
  t.ok(r.bareProtectPerCpuSecond > 0);
  t.ok(r.fanoutP99Ms >= r.fanoutP50Ms);
  t.ok(r.tracksPerCore > 0);
  const lines: string[] = [];
  t.equal(
    await main(['--seconds', '0.05', '--subscribers', '2', '--memory-subscribers', '5'], (l) =>
      lines.push(l),
    ),
    0,
  );
  t.match(lines.join('\n'), /tracks\/core/);
});

t.test('bad options are refused with exit code 1', async (t) => {
  t.equal(await main(['--subscribers', '0']), 1);
  t.equal(await main(['--profile', 'NULL']), 1);
});
