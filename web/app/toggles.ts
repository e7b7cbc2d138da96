/** The mute and camera buttons, the same in both room modes. */
import { byId } from './dom.js';
import type { Media } from './media.js';
import type { PageState } from './test-state.js';

export function wireToggles(media: Media, state: PageState): void {
  const mute = byId<HTMLButtonElement>('mute');
  mute.addEventListener('click', () => {
    state.audioMuted = media.toggleAudio();
    mute.setAttribute('aria-pressed', String(state.audioMuted));
    mute.textContent = state.audioMuted ? 'Unmute' : 'Mute';
  });
  const camera = byId<HTMLButtonElement>('camera');
  camera.addEventListener('click', () => {
    state.videoMuted = media.toggleVideo();
    camera.setAttribute('aria-pressed', String(state.videoMuted));
    camera.textContent = state.videoMuted ? 'Camera on' : 'Camera off';
  });
}
