import { formatMediaLine, type SessionDescription } from './description.js';

/** The description as SDP text: one `<type>=<value>` per line, each ended by CRLF (§5). */
export function serialize(desc: SessionDescription): string {
  let out = '';
  for (const l of desc.session) out += `${l.type}=${l.value}\r\n`;
  for (const m of desc.media) {
    out += `m=${formatMediaLine(m)}\r\n`;
    for (const l of m.lines) out += `${l.type}=${l.value}\r\n`;
  }
  return out;
}
