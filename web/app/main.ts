/**
 * The call page served at `/` by `rtcd signal`: `/?room=NAME` (or `/r/NAME`) joins NAME.
 * Other query parameters: `token` (JWT), `relay=1` (TURN only), `turn=http` (credentials from
 * POST /api/v1/turn-credentials), `video=0`, `audio=0`, and `mode=sfu`: the room's media goes
 * through the SFU (sfu-page.ts) instead of a mesh of peer connections.
 */
import { type CandidatePairInfo, type JoinOptions, RtcdClient } from '../sdk/index.js';
import { Chat } from './chat.js';
import { byId, el } from './dom.js';
import { FileTransfer } from './file-transfer.js';
import { Media } from './media.js';
import { runSfuPage } from './sfu-page.js';
import type { PageState, PeerView, RtcdTestApi } from './test-state.js';
import { wireToggles } from './toggles.js';

declare global {
  interface Window {
    rtcdTest?: RtcdTestApi;
  }
}

const params = new URLSearchParams(location.search);
const room = roomFromUrl();
const mode = params.get('mode') === 'sfu' ? 'sfu' : 'p2p';
const state: PageState = {
  mode,
  room,
  peerId: '',
  sessionId: '',
  clientState: 'connecting',
  rejoins: [],
  audioMuted: false,
  videoMuted: false,
  sharing: false,
  peers: [],
  chat: [],
  transfers: [],
  errors: [],
};
const peerViews = new Map<string, PeerView>();
const media = new Media();
let call: RtcdClient | undefined;

const chat = new Chat({
  screen: (_peerId, streamId, on) => media.markScreen(streamId, on),
  opened: (peerId) => {
    const screen = media.screenStream;
    if (screen !== undefined) chat.announceScreen(screen.id, true, peerId);
  },
});
const files = new FileTransfer((peerId) => peerId);
state.chat = chat.lines;
state.transfers = files.transfers;

window.rtcdTest = {
  state: () => ({
    ...state,
    peers: [...peerViews.values()].map((p) => {
      const peer = call?.peers.get(p.peerId);
      return {
        ...p,
        streams: media.streamsOf(p.peerId),
        ...(peer === undefined
          ? {}
          : {
              signalingState: peer.pc.signalingState,
              iceConnectionState: peer.pc.iceConnectionState,
              iceGatheringState: peer.pc.iceGatheringState,
              negotiation: { ...peer.stats },
            }),
      };
    }),
  }),
  framesDecoded: (peerId, which) => media.framesDecoded(peerId, which),
  dropSignaling: () => call?.dropSignaling(),
};

function roomFromUrl(): string {
  const fromPath = /^\/r\/([^/]+)$/.exec(location.pathname);
  const name = params.get('room') ?? (fromPath ? decodeURIComponent(fromPath[1]!) : '');
  if (name !== '') return name;
  // No room yet: make one up and put it in the address bar, so the URL can be shared.
  const made = crypto.randomUUID().slice(0, 8);
  params.set('room', made);
  history.replaceState(null, '', `/?${params}`);
  return made;
}

function report(what: string, err: unknown): void {
  const text = `${what}: ${err instanceof Error ? err.message : String(err)}`;
  state.errors.push(text);
  byId('errors').append(el('li', {}, text));
}

function setClientState(s: string): void {
  state.clientState = s;
  const node = byId('client-state');
  node.textContent = s;
  node.dataset.state = s;
}

function renderPeers(): void {
  const list = byId('peers');
  list.replaceChildren(
    ...[...peerViews.values()].map((p) => {
      const pair = p.localCandidateType
        ? ` via ${p.localCandidateType} → ${p.remoteCandidateType}` +
          (p.relayProtocol ? ` (TURN/${p.relayProtocol})` : '')
        : '';
      return el(
        'li',
        { 'data-peer': p.peerId, 'data-state': p.connectionState },
        `${p.peerId}: ${p.connectionState}${pair}`,
      );
    }),
  );
}

function onPair(info: CandidatePairInfo): void {
  const view = peerViews.get(info.peerId);
  if (view === undefined) return;
  view.localCandidateType = info.local.type;
  view.remoteCandidateType = info.remote.type;
  if (info.relayProtocol !== undefined) view.relayProtocol = info.relayProtocol;
  renderPeers();
}

/** Listeners attached before joining (see JoinOptions.listeners). */
function listeners(): JoinOptions['listeners'] {
  return {
    state: setClientState,
    'peer-joined': ({ peerId }) => {
      peerViews.set(peerId, { peerId, connectionState: 'new', streams: [] });
      renderPeers();
    },
    'peer-left': ({ peerId }) => {
      peerViews.delete(peerId);
      media.removePeer(peerId);
      chat.detach(peerId);
      files.detach(peerId);
      renderPeers();
    },
    datachannel: ({ peerId, label, channel }) => {
      if (label === 'chat') chat.attach(peerId, channel);
      if (label === 'file') files.attach(peerId, channel);
    },
    track: ({ peerId, track, streams, receiver }) =>
      media.addRemote(peerId, track, streams, receiver),
    'connection-state': ({ peerId, state: s }) => {
      const view = peerViews.get(peerId);
      if (view !== undefined) view.connectionState = s;
      renderPeers();
    },
    'candidate-pair': onPair,
    'session-state': (s) => {
      state.sessionState = s;
    },
    rejoined: (r) => {
      state.rejoins.push(r);
      state.peerId = r.peerId;
      byId('peer-id').textContent = r.peerId;
    },
    error: (e) => report(e.code, new Error(e.message)),
  };
}

function wireControls(): void {
  wireToggles(media, state);
  const share = byId<HTMLButtonElement>('share');
  const stopSharing = () => {
    const screen = media.screenStream;
    if (call === undefined || screen === undefined) return;
    chat.announceScreen(screen.id, false);
    media.stopScreen(call);
    state.sharing = false;
    share.textContent = 'Share screen';
  };
  share.addEventListener('click', () => {
    if (call === undefined) return;
    if (state.sharing) return stopSharing();
    media.startScreen(call, stopSharing).then(
      (stream) => {
        chat.announceScreen(stream.id, true);
        state.sharing = true;
        share.textContent = 'Stop sharing';
      },
      (err: unknown) => report('screen share', err),
    );
  });
  byId<HTMLButtonElement>('leave').addEventListener('click', () => {
    call?.leave();
    for (const t of media.localStream?.getTracks() ?? []) t.stop();
  });
  const form = byId<HTMLFormElement>('chat-form');
  const input = byId<HTMLInputElement>('chat-input');
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (input.value.trim() === '') return;
    chat.say(input.value);
    input.value = '';
  });
  const picker = byId<HTMLInputElement>('file-input');
  picker.addEventListener('change', () => {
    for (const file of picker.files ?? []) files.send(file).catch((e) => report('file', e));
    picker.value = '';
  });
}

async function main(): Promise<void> {
  byId('room-name').textContent = room;
  wireControls();
  try {
    await media.start(params.get('video') !== '0', params.get('audio') !== '0');
  } catch (err) {
    report('camera/microphone (joining receive-only)', err);
  }
  const token = params.get('token');
  call = await RtcdClient.join({
    url: '/ws',
    room,
    ...(token !== null ? { token } : {}),
    ...(media.localStream !== undefined ? { localStream: media.localStream } : {}),
    channels: ['chat', 'file'],
    iceTransportPolicy: params.get('relay') === '1' ? 'relay' : 'all',
    turnCredentials: params.get('turn') === 'http' ? 'http' : 'joined',
    listeners: listeners(),
  });
  state.peerId = call.peerId;
  state.sessionId = call.sessionId;
  setClientState(call.state);
  byId('peer-id').textContent = call.peerId;
  renderPeers();
}

if (mode === 'sfu') {
  runSfuPage({ room, params, state, media, report, setClientState }).catch((err: unknown) => {
    setClientState('failed');
    report('join', err);
  });
} else {
  // Leave at once when the tab goes, rather than after the server's resume grace period.
  addEventListener('pagehide', () => call?.leave());
  main().catch((err: unknown) => {
    setClientState('failed');
    report('join', err);
  });
}
