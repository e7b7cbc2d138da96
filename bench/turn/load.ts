/**
 * The load system: forked generator processes and one forked sink process, driven in steps of
 * a fixed offered rate. A step's loss is 1 − received / sent; its server CPU is the change in
 * the server process tree's utime + stime from before the first packet to after the drain.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Child, processCpuUs, treeCpuUs } from './proc.js';
import type {
  Credentials,
  Endpoint,
  FlowMode,
  FlowSpec,
  FromGenerator,
  FromSink,
  ToGenerator,
  ToSink,
} from './protocol.js';

const here = fileURLToPath(new URL('.', import.meta.url));

export interface StepResult {
  /** Offered rate asked of the generators, packets/s. */
  rate: number;
  sent: number;
  received: number;
  /** 1 − received/sent, ≥ 0. */
  loss: number;
  /** received / step duration. */
  relayedPps: number;
  /** The generators sent < 97% of the offered packets. */
  generatorLimited: boolean;
  /** Server tree CPU µs per received packet; undefined without a server. */
  cpuUsPerPacket?: number;
  /** Server tree CPU as a share of one core over the step. */
  serverCpu?: number;
  /** Generator and sink CPU as a share of one core over the step (all generator processes). */
  generatorCpu: number;
  sinkCpu: number;
}

export interface LoadOptions {
  clients: number;
  generators: number;
}

export class LoadSystem {
  private readonly gens: Child<ToGenerator, FromGenerator>[] = [];
  private readonly sink: Child<ToSink, FromSink>;
  private stepId = 0;
  sinks: Endpoint[] = [];

  private constructor(readonly o: LoadOptions) {
    this.sink = new Child(`${here}sink.ts`, 'sink');
    for (let i = 0; i < o.generators; i++) {
      this.gens.push(new Child(`${here}generator.ts`, `generator ${i}`));
    }
  }

  static async start(o: LoadOptions): Promise<LoadSystem> {
    const load = new LoadSystem(o);
    try {
      const opened = await load.sink.request(
        { type: 'open', sockets: o.clients },
        'opened',
        20_000,
      );
      load.sinks = opened.ports.map((port) => ({ host: '127.0.0.1', port }));
    } catch (err) {
      await load.close();
      throw err;
    }
    return load;
  }

  /** Flows of generator `g`: clients are dealt round-robin, client i → sink i. */
  private flowsOf(g: number, users: Credentials[]): FlowSpec[] {
    const flows: FlowSpec[] = [];
    for (let i = g; i < this.o.clients; i += this.gens.length) {
      const credentials = users.length > 0 ? users[i % users.length] : undefined;
      flows.push({ index: i, sink: this.sinks[i]!, ...(credentials ? { credentials } : {}) });
    }
    return flows;
  }

  /** (Re)creates every flow: sockets, or TURN allocations with a channel to their sink. */
  async setup(
    mode: FlowMode,
    target: Endpoint | undefined,
    payloadSize: number,
    users: Credentials[],
  ): Promise<void> {
    await Promise.all(
      this.gens.map((g, i) => {
        const flows = this.flowsOf(i, users);
        const m: ToGenerator = {
          type: 'setup',
          mode,
          flows,
          payloadSize,
          ...(target ? { target } : {}),
        };
        return g.request(m, 'ready', 30_000);
      }),
    );
  }

  /** Closes the flows (TURN: Refresh lifetime 0), keeping the processes. */
  async teardown(): Promise<void> {
    await Promise.all(this.gens.map((g) => g.request({ type: 'close' }, 'closed', 15_000)));
  }

  async step(
    rate: number,
    durationMs: number,
    drainMs: number,
    serverPid?: number,
  ): Promise<StepResult> {
    const step = ++this.stepId;
    await this.sink.request({ type: 'step', step }, 'stepped', 5000);
    const cpu0 = this.cpu(serverPid);
    const shares = this.gens.map((_, i) => this.flowsOf(i, []).length / this.o.clients);
    const done = await Promise.all(
      this.gens.map((g, i) =>
        g.request(
          { type: 'run', step, rate: rate * shares[i]!, durationMs },
          'done',
          durationMs + 10_000,
        ),
      ),
    );
    await sleep(drainMs);
    const cpu1 = this.cpu(serverPid);
    const report = await this.sink.request({ type: 'step', step: 0 }, 'stepped', 5000);
    const sent = done.reduce((n, d) => n + d.sent, 0);
    const received = report.previousReceived;
    const windowUs = (durationMs + drainMs) * 1000;
    const result: StepResult = {
      rate,
      sent,
      received,
      loss: sent > 0 ? Math.max(0, 1 - received / sent) : 1,
      relayedPps: (received * 1000) / durationMs,
      generatorLimited: sent < 0.97 * ((rate * durationMs) / 1000),
      generatorCpu: (cpu1.gens - cpu0.gens) / windowUs,
      sinkCpu: (cpu1.sink - cpu0.sink) / windowUs,
    };
    if (serverPid !== undefined) {
      const us = cpu1.server - cpu0.server;
      result.serverCpu = us / windowUs;
      result.cpuUsPerPacket = received > 0 ? us / received : undefined;
    }
    return result;
  }

  private cpu(serverPid?: number): { server: number; gens: number; sink: number } {
    return {
      server: serverPid === undefined ? 0 : treeCpuUs(serverPid),
      gens: this.gens.reduce((n, g) => n + processCpuUs(g.pid), 0),
      sink: processCpuUs(this.sink.pid),
    };
  }

  async close(): Promise<void> {
    await Promise.all([this.sink.close(), ...this.gens.map((g) => g.close())]);
  }
}

export interface SweepOptions {
  rates: number[];
  durationMs: number;
  drainMs: number;
  maxLoss: number;
  /** Repeat a failed step once before accepting it (the machine is shared and noisy). */
  retry: boolean;
  /** One extra step halfway between the last clean rate and the first failed one. */
  refine: boolean;
  /** Hard limit on steps, including retries and refinement. */
  maxSteps: number;
}

export interface SweepResult {
  steps: StepResult[];
  /** The clean step with the highest relayed rate, if any. */
  clean?: StepResult;
  /** Why the sweep stopped above `clean`. */
  stoppedBy: 'loss' | 'generator' | 'ladder-end' | 'step-limit';
}

export function isClean(s: StepResult, maxLoss: number): boolean {
  return s.loss <= maxLoss && !s.generatorLimited;
}

/** Steps up the offered rate until loss exceeds `maxLoss` (confirmed by a retry). */
export async function sweep(
  run: (rate: number) => Promise<StepResult>,
  o: SweepOptions,
): Promise<SweepResult> {
  const steps: StepResult[] = [];
  let clean: StepResult | undefined;
  let failedRate: number | undefined;
  let stoppedBy: SweepResult['stoppedBy'] = 'ladder-end';
  const attempt = async (rate: number): Promise<StepResult | undefined> => {
    if (steps.length >= o.maxSteps) return undefined;
    const r = await run(rate);
    steps.push(r);
    return r;
  };
  for (const rate of o.rates) {
    let r = await attempt(rate);
    if (r && !isClean(r, o.maxLoss) && !r.generatorLimited && o.retry) {
      r = (await attempt(rate)) ?? r;
    }
    if (!r) {
      stoppedBy = 'step-limit';
      break;
    }
    if (isClean(r, o.maxLoss)) {
      if (!clean || r.relayedPps > clean.relayedPps) clean = r;
      continue;
    }
    stoppedBy = r.generatorLimited ? 'generator' : 'loss';
    failedRate = rate;
    break;
  }
  if (o.refine && stoppedBy === 'loss' && failedRate !== undefined) {
    const low = clean?.rate ?? 0;
    const mid = Math.round((low + failedRate) / 2 / 1000) * 1000;
    if (mid > low && mid < failedRate) {
      const r = await attempt(mid);
      if (r && isClean(r, o.maxLoss) && (!clean || r.relayedPps > clean.relayedPps)) clean = r;
    }
  }
  return { steps, ...(clean ? { clean } : {}), stoppedBy };
}
