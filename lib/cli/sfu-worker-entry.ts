/**
 * The program each `rtcd sfu --workers N` worker runs (forked by sfu-workers.ts, which finds
 * this file next to itself): it waits for the primary's start message (its slot and the
 * resolved configuration) over IPC and runs one worker.
 */
import { runSfuWorkerEntry } from './sfu-workers.js';

runSfuWorkerEntry();
