import t from 'tap';
import { VERSION } from '../lib/version.js';

t.test('VERSION matches package.json', async (t) => {
  const { default: pkg } = await import('../package.json', { with: { type: 'json' } });
  t.equal(VERSION, pkg.version);
});
