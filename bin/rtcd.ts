#!/usr/bin/env -S node --max-semi-space-size=1
// The flag: a small young generation for the SFU's per-packet Buffers (lib/cli/node-flags.ts).
import { main } from '../lib/cli/main.js';

await main(process.argv);
