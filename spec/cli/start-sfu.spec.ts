import t from 'tap';
import { startSfuServer } from '../../lib/cli/start-sfu.js';
import { ecbResultReleaseEnabled } from '../../lib/srtp/keystream-runs.js';
import type { Logger } from '../../lib/util/logger.js';

function recorder(): { log: Logger; lines: { level: string; obj: object; msg?: string }[] } {
  const lines: { level: string; obj: object; msg?: string }[] = [];
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      lines.push({ level, obj, msg });
    };
  const log: Logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
  return { log, lines };
}

t.test('startSfuServer turns on the release of SRTP ECB results and says so', async (t) => {
  const { log, lines } = recorder();
  const started = await startSfuServer({ host: '127.0.0.1', port: 0, udpPort: 0 }, log, {
    advise: false,
  });
  t.teardown(() => started.server.close());
  t.ok(ecbResultReleaseEnabled(), 'on after start (Node 20: through the V8 flag it sets)');
  const line = lines.find((l) => l.msg === 'sfu: SRTP crypto paths and heap headroom');
  t.ok(line, 'logged at debug');
  t.match(line?.obj, { ecbResultRelease: true, heapGrowing: true });
  t.match(started.url, /^http:\/\/127\.0\.0\.1:\d+$/);
});
