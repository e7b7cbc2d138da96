/**
 * The SDP parser (RFC 8866 §5, §9). Lossless: every line is kept as written, so
 * `serialize(parse(text).value) === text` for CRLF-terminated input. Never throws on input:
 * a refused description comes back with a stable code and the 1-based line number.
 */
import {
  formatMediaLine,
  type MediaSection,
  type SdpLine,
  type SessionDescription,
} from './description.js';
import type { SdpErrorCode, SdpParseError, SdpParseResult } from './errors.js';

export interface ParseOptions {
  /** Longest text accepted, in UTF-16 code units. Default 262144 (256 KiB). */
  maxLength?: number;
}

export const DEFAULT_MAX_SDP_LENGTH = 262_144;

// token-char (RFC 8866 §9): the attribute name before the first ':'.
const TOKEN = /^[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+$/;
const LINE_TYPE = /^[a-z]$/;
// Only these may follow an m= line (RFC 8866 §5: i, c, b, k, a).
const MEDIA_TYPES: ReadonlySet<string> = new Set(['i', 'c', 'b', 'k', 'a']);
// At most once per description, in the first three lines.
const HEADER_TYPES: ReadonlySet<string> = new Set(['v', 'o', 's']);
const DIGITS = /^(0|[1-9][0-9]{0,4})$/;

export function parse(
  text: string,
  options: ParseOptions = {},
): SdpParseResult<SessionDescription> {
  const maxLength = options.maxLength ?? DEFAULT_MAX_SDP_LENGTH;
  if (text.length > maxLength) {
    return fail('too-large', 0, `SDP is ${text.length} characters, more than ${maxLength}`);
  }
  if (text === '') return fail('bad-version', 1, 'empty SDP');
  const rows = text.split('\n');
  // A final newline leaves one empty row behind; that is the normal end of the text.
  if (rows.length > 1 && rows[rows.length - 1] === '') rows.pop();
  const desc: SessionDescription = { session: [], media: [] };
  let current: MediaSection | undefined;
  for (let i = 0; i < rows.length; i++) {
    const n = i + 1;
    let row = rows[i]!;
    if (row.endsWith('\r')) row = row.slice(0, -1);
    const type = row.charAt(0);
    if (row.length < 2 || row.charAt(1) !== '=' || !LINE_TYPE.test(type)) {
      return fail('bad-line', n, 'expected <letter>=<value>');
    }
    const value = row.slice(2);
    if (value.includes('\r') || value.includes('\0')) {
      return fail('bad-line', n, 'CR or NUL inside a line');
    }
    const header = checkHeader(i, type, value);
    if (header !== undefined) return fail(header, n, `line ${n} breaks the v=, o=, s= header`);
    if (type === 'a' && !validAttribute(value)) {
      return fail('bad-attribute', n, 'attribute name is not a token');
    }
    if (type === 'm') {
      const media = parseMediaLine(value);
      if (media === undefined) return fail('bad-media-line', n, 'malformed m= line');
      desc.media.push(media);
      current = media;
    } else if (current !== undefined) {
      if (!MEDIA_TYPES.has(type)) {
        return fail('misplaced-line', n, `${type}= is not allowed in a media section`);
      }
      current.lines.push({ type, value });
    } else {
      desc.session.push({ type, value } satisfies SdpLine);
    }
  }
  if (rows.length < 3) return fail(headerCode(rows.length), rows.length + 1, 'truncated header');
  return { ok: true, value: desc };
}

function headerCode(index: number): SdpErrorCode {
  return index === 0 ? 'bad-version' : index === 1 ? 'bad-origin' : 'missing-session-name';
}

function checkHeader(index: number, type: string, value: string): SdpErrorCode | undefined {
  if (index >= 3) return HEADER_TYPES.has(type) ? 'misplaced-line' : undefined;
  if (index === 0) return type === 'v' && value === '0' ? undefined : 'bad-version';
  if (index === 1) {
    if (type !== 'o') return 'bad-origin';
    const f = value.split(' ');
    return f.length === 6 && f.every((x) => x !== '') ? undefined : 'bad-origin';
  }
  return type === 's' ? undefined : 'missing-session-name';
}

function validAttribute(value: string): boolean {
  const colon = value.indexOf(':');
  return TOKEN.test(colon < 0 ? value : value.slice(0, colon));
}

function parseMediaLine(value: string): MediaSection | undefined {
  const f = value.split(' ');
  if (f.length < 4) return undefined;
  const [kind, portText, protocol, ...formats] = f as [string, string, string, ...string[]];
  const [p, count, extra] = portText.split('/');
  if (extra !== undefined || p === undefined || !DIGITS.test(p)) return undefined;
  const port = Number(p);
  if (port > 65535) return undefined;
  const media: MediaSection = { kind, port, protocol, formats, lines: [] };
  if (count !== undefined) {
    if (!DIGITS.test(count) || count === '0') return undefined;
    media.portCount = Number(count);
  }
  if (!TOKEN.test(kind) || protocol === '' || formats.some((x) => x === '')) return undefined;
  // Anything the model cannot reproduce (double spaces, leading zeros) is refused, so the
  // parse stays lossless.
  return formatMediaLine(media) === value ? media : undefined;
}

function fail(
  code: SdpErrorCode,
  line: number,
  message: string,
): { ok: false; error: SdpParseError } {
  return { ok: false, error: { code, line, message } };
}
