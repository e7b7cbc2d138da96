/** Stable codes for SDP the parser refuses; never renamed once released. */
export type SdpErrorCode =
  /** The text exceeds `maxLength`. */
  | 'too-large'
  /** Not `<letter>=<value>`, an empty line inside, or a CR/NUL inside a value. */
  | 'bad-line'
  /** The first line is not `v=0`. */
  | 'bad-version'
  /** The second line is not an `o=` line with six fields. */
  | 'bad-origin'
  /** The third line is not `s=`. */
  | 'missing-session-name'
  /** `v=`, `o=`, `s=`, `t=`, … repeated or inside a media section. */
  | 'misplaced-line'
  /** An `m=` line that is not `<media> <port>[/<n>] <proto> <fmt> …` with single spaces. */
  | 'bad-media-line'
  /** An `a=` line whose name is empty or not a token (RFC 8866 §9). */
  | 'bad-attribute';

export interface SdpParseError {
  code: SdpErrorCode;
  /** 1-based line number of the offending line; 0 for the whole text. */
  line: number;
  message: string;
}

export type SdpParseResult<T> = { ok: true; value: T } | { ok: false; error: SdpParseError };
