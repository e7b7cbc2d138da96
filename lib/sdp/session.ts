/**
 * Session-wide views: `a=group` (RFC 5888) with BUNDLE (RFC 8843), `a=mid`, and finding a
 * media section by mid.
 */
import { addAttribute, attributeValue, attributeValues } from './attributes.js';
import type { MediaSection, SdpLine, SessionDescription } from './description.js';

export interface Group {
  /** `BUNDLE`, `LS`, `FID`, … as written. */
  semantics: string;
  /** Identification tags (mids), in order. */
  mids: string[];
}

/** Every `a=group:` at session level, in order. */
export function groupsOf(desc: SessionDescription): Group[] {
  return attributeValues(desc.session, 'group').map((v) => {
    const [semantics = '', ...mids] = v.split(' ');
    return { semantics, mids: mids.filter((x) => x !== '') };
  });
}

/** The mids of each `a=group:BUNDLE` (usually one group). */
export function bundleGroupsOf(desc: SessionDescription): string[][] {
  return groupsOf(desc)
    .filter((g) => g.semantics === 'BUNDLE')
    .map((g) => g.mids);
}

export function formatGroup(g: Group): string {
  return [g.semantics, ...g.mids].join(' ');
}

export function addGroup(lines: SdpLine[], g: Group): void {
  addAttribute(lines, 'group', formatGroup(g));
}

/** The section's `a=mid` (RFC 5888 §4), or undefined. */
export function midOf(m: MediaSection): string | undefined {
  return attributeValue(m.lines, 'mid');
}

export function mediaByMid(desc: SessionDescription, mid: string): MediaSection | undefined {
  return desc.media.find((m) => midOf(m) === mid);
}
