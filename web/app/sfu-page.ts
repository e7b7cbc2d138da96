/**
 * The call page in SFU mode (`/?room=NAME&mode=sfu`): everyone publishes once to the SFU and
 * receives the others' tracks from it. A grid of remote videos labelled by peer id, the own
 * preview, mute and camera toggles, and a screen share published as a second video track.
 * Query parameters as in P2P mode (`token`, `relay=1`, `video=0`, `audio=0`), plus
 * `simulcast=1` (publish the camera in three layers).
 */
import { type SfuJoinOptions, SfuRoom } from '../sdk/index.js';
import { byId, el } from './dom.js';
import type { Media } from './media.js';
import { SfuTiles } from './sfu-tiles.js';
import type { PageState, SfuView } from './test-state.js';
import { wireToggles } from './toggles.js';

export interface SfuPageContext {
  room: string;
  params: URLSearchParams;
  state: PageState;
  media: Media;
  report(what: string, err: unknown): void;
  setClientState(s: string): void;
}

export async function runSfuPage(ctx: SfuPageContext): Promise<void> {
  const { state, media, params } = ctx;
  document.body.dataset.mode = 'sfu';
  byId('room-name').textContent = `${ctx.room} (SFU)`;
  const view: SfuView = {
    peers: [],
    tracks: [],
    ended: [],
    left: [],
    publishState: 'new',
    subscribeState: 'new',
    negotiations: { publish: 0, subscribe: 0 },
    published: [],
    videoElements: 0,
    pairs: {},
  };
  state.sfu = view;
  let room: SfuRoom | undefined;
  const tiles = new SfuTiles((trackId, layer) => room?.setLayer(trackId, layer));
  const peers = new Set<string>();
  const readPair = (which: 'publish' | 'subscribe') => {
    room?.selectedCandidatePairs().then(
      (pairs) => {
        const p = pairs[which];
        if (p === undefined) return;
        view.pairs[which] = {
          local: p.local.type,
          remote: p.remote.type,
          ...(p.relayProtocol !== undefined ? { relayProtocol: p.relayProtocol } : {}),
        };
      },
      (err: unknown) => ctx.report('stats', err),
    );
  };
  const renderPeers = () => {
    byId('peers').replaceChildren(
      ...[...peers].map((id) => el('li', { 'data-peer': id, 'data-state': 'connected' }, id)),
    );
    byId('sfu-state').textContent = `publish ${view.publishState}, receive ${view.subscribeState}`;
  };

  window.rtcdTest = {
    state: () => ({
      ...state,
      sfu: {
        ...view,
        peers: [...peers],
        tracks: tiles.views(),
        negotiations: room?.negotiations ?? view.negotiations,
        published: room?.publishedTracks.map((t) => t.kind) ?? [],
        videoElements: tiles.videoElements,
      },
    }),
    framesDecoded: (peerId, which) => tiles.framesDecoded(peerId, which),
    inbound: () => tiles.inbound(),
    dropSignaling: () => room?.dropSignaling(),
    leave: () => leave(),
  };

  const leave = () => {
    room?.leave();
    tiles.clear();
    for (const t of media.localStream?.getTracks() ?? []) t.stop();
    for (const t of media.screenStream?.getTracks() ?? []) t.stop();
  };
  wireToggles(media, state);
  wireScreenShare(ctx, () => room);
  byId<HTMLButtonElement>('leave').addEventListener('click', leave);
  addEventListener('pagehide', () => room?.leave());

  try {
    await media.start(params.get('video') !== '0', params.get('audio') !== '0');
  } catch (err) {
    ctx.report('camera/microphone (joining receive-only)', err);
  }
  const listeners: SfuJoinOptions['listeners'] = {
    state: ctx.setClientState,
    'peer-joined': ({ peerId }) => {
      peers.add(peerId);
      renderPeers();
    },
    'peer-left': ({ peerId }) => {
      peers.delete(peerId);
      view.left.push(peerId);
      renderPeers();
    },
    track: (t) => tiles.add(t),
    'active-speaker': ({ peerId }) => {
      view.speaker = peerId;
      tiles.speaker(peerId);
    },
    trackended: (t) => {
      tiles.remove(t);
      view.ended.push({ peerId: t.peerId, trackId: t.trackId, kind: t.kind });
    },
    'connection-state': ({ pc, state: s }) => {
      if (pc === 'publish') view.publishState = s;
      else view.subscribeState = s;
      renderPeers();
      if (s === 'connected') readPair(pc);
    },
    rejoined: (r) => {
      state.rejoins.push(r);
      state.peerId = r.peerId;
      byId('peer-id').textContent = r.peerId;
    },
    error: (e) => ctx.report(e.code, new Error(e.message)),
  };
  const token = params.get('token');
  room = await SfuRoom.join({
    url: '/ws',
    room: ctx.room,
    ...(token !== null ? { token } : {}),
    ...(media.localStream !== undefined ? { localStream: media.localStream } : {}),
    publishOptions: { simulcast: params.get('simulcast') === '1' },
    iceTransportPolicy: params.get('relay') === '1' ? 'relay' : 'all',
    listeners,
  });
  // A connection may have come up before `room` was set.
  if (view.publishState === 'connected') readPair('publish');
  if (view.subscribeState === 'connected') readPair('subscribe');
  state.peerId = room.peerId;
  state.sessionId = room.sessionId;
  ctx.setClientState(room.state);
  byId('peer-id').textContent = room.peerId;
  renderPeers();
}

/** The screen share is a second published video track; stopping it unpublishes it. */
function wireScreenShare(ctx: SfuPageContext, room: () => SfuRoom | undefined): void {
  const { media, state } = ctx;
  const share = byId<HTMLButtonElement>('share');
  const stop = () => {
    const screen = media.screenStream;
    media.screenStream = undefined;
    state.sharing = false;
    share.textContent = 'Share screen';
    for (const track of screen?.getTracks() ?? []) {
      room()
        ?.unpublish(track)
        .catch((err: unknown) => ctx.report('stop sharing', err));
      track.stop();
    }
  };
  share.addEventListener('click', () => {
    const r = room();
    if (r === undefined) return;
    if (state.sharing) return stop();
    const options: DisplayMediaStreamOptions & { preferCurrentTab?: boolean } = {
      video: { frameRate: 15 },
      audio: false,
      preferCurrentTab: true,
    };
    navigator.mediaDevices.getDisplayMedia(options).then(
      async (stream) => {
        media.screenStream = stream;
        state.sharing = true;
        share.textContent = 'Stop sharing';
        for (const track of stream.getVideoTracks()) {
          track.addEventListener('ended', stop, { once: true });
          await r.publish(track, stream, { source: 'screen' });
        }
      },
      (err: unknown) => ctx.report('screen share', err),
    );
  });
}
