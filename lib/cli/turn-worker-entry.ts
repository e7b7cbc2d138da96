/**
 * The program each `rtcd turn --workers N` worker runs (the cluster primary in cluster.ts
 * finds this file next to itself): it asks the primary for the resolved configuration over
 * IPC and runs one worker.
 */
import { runTurnWorkerEntry } from './cluster.js';

runTurnWorkerEntry();
