/**
 * werift 0.24's full ICE agent (`Connection`) as a peer of ours, signalled in-process with
 * candidate strings. werift is a dev dependency used as a test peer only.
 */
import { Candidate, Connection } from 'werift';
import type { IceAgent } from '../../lib/ice/agent.js';
import { formatCandidate, parseCandidate } from '../../lib/ice/candidate.js';

export interface WeriftIceOptions {
  controlling: boolean;
  /** Relay through this TURN server (werift's forceTurn). */
  turn?: { host: string; port: number; username: string; password: string };
}

export function weriftAgent(o: WeriftIceOptions): Connection {
  return new Connection(o.controlling, {
    additionalHostAddresses: ['127.0.0.1'],
    useIpv6: false,
    ...(o.turn === undefined
      ? {}
      : {
          turnServer: [o.turn.host, o.turn.port] as [string, number],
          turnUsername: o.turn.username,
          turnPassword: o.turn.password,
          forceTurn: true,
        }),
  });
}

/** Exchanges parameters and trickled candidates between our agent and werift's. */
export function signalWerift(ours: IceAgent, theirs: Connection): void {
  theirs.setRemoteParams({
    iceLite: false,
    usernameFragment: ours.localParameters.ufrag,
    password: ours.localParameters.pwd,
  });
  ours.setRemoteParameters({ ufrag: theirs.localUsername, pwd: theirs.localPassword });
  const toTheirs = (line: string): void => {
    void theirs.addRemoteCandidate(Candidate.fromSdp(line.slice('candidate:'.length)));
  };
  for (const c of ours.localCandidates) toTheirs(formatCandidate(c));
  ours.on('candidate', (c) => toTheirs(formatCandidate(c)));
  const endTheirs = (): void => void theirs.addRemoteCandidate(undefined);
  if (ours.gatheringState === 'complete') endTheirs();
  else ours.on('gathering-complete', endTheirs);
  const toOurs = (c: Candidate): void => {
    const parsed = parseCandidate(`candidate:${c.toSdp()}`);
    if (parsed !== undefined) ours.addRemoteCandidate(parsed);
  };
  for (const c of theirs.localCandidates) toOurs(c);
  theirs.onIceCandidate.subscribe(toOurs);
  if (theirs.localCandidatesEnd) ours.addRemoteCandidate(null);
}

/**
 * Calls `send` now and every 200 ms until `arrived` settles: one datagram is no delivery
 * guarantee (a loaded machine once lost a test's single packet and it waited until the file's
 * timeout).
 */
export async function resendUntil<T>(arrived: Promise<T>, send: () => unknown): Promise<T> {
  send();
  const timer = setInterval(send, 200);
  try {
    return await arrived;
  } finally {
    clearInterval(timer);
  }
}
