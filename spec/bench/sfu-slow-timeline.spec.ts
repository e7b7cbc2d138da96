import t from 'tap';
import {
  BIN_MS,
  formatSlow,
  SLOW_US,
  SlowTimeline,
  summarizeSlow,
} from '../../bench/sfu/slow-timeline.js';

t.test('slow packets are placed by send time and grouped into episodes', (t) => {
  const start = 1_000_000;
  const a = new SlowTimeline(start, 1000); // 100 bins
  const b = new SlowTimeline(start, 1000);
  for (let bin = 0; bin < 100; bin++) {
    for (let k = 0; k < 10; k++) {
      const sent = start + bin * BIN_MS * 1000 + k * 100;
      // An episode in bins 0-2 (first 100 ms), one in 50-54, and a spread-out slow packet a bin.
      const inEpisode = bin <= 2 || (bin >= 50 && bin <= 54);
      a.add(sent, inEpisode ? SLOW_US + 1 : k === 0 ? SLOW_US + 1 : 500);
      if (k < 5) b.add(sent, 500);
    }
  }
  a.add(start - 1, 10_000_000); // before the window: ignored
  a.add(start + 1000 * 1000, 10_000_000); // after it: ignored
  const s = summarizeSlow([a, b]);
  const slowPackets = 8 * 10 + 92;
  t.equal(s.share, slowPackets / 1500);
  t.equal(s.episodes, 2, 'bins where most packets (of both processes) are slow');
  t.equal(s.longestMs, 5 * BIN_MS);
  t.equal(s.inEpisodes, 80 / slowPackets);
  t.equal(s.inFirst100Ms, (30 + 7) / slowPackets, '3 episode bins and 7 spread ones');
  t.match(formatSlow(s), /of packets, .* in 2 episode\(s\)/);
  t.equal(formatSlow(summarizeSlow([b])), `none over ${SLOW_US / 1000} ms`);
  t.end();
});
