/**
 * Password preparation for STUN keys.
 *
 * RFC 5389 used SASLprep (RFC 4013); RFC 8489 §9.2.2 uses the OpaqueString profile of
 * PRECIS (RFC 8265). Both sets of test vectors (RFC 5769 §2.4, RFC 8489 Appendix B.1) map
 * the password "The\u00ADM\u00AAtr\u2168" to "TheMatrIX", which is the SASLprep result
 * (soft hyphen mapped to nothing, NFKC); strict OpaqueString would use NFC and reject U+00AD.
 * So this applies the SASLprep mappings:
 * - RFC 3454 table B.1 ("commonly mapped to nothing") removed,
 * - RFC 3454 table C.1.2 (non-ASCII spaces) mapped to U+0020,
 * - Unicode NFKC normalisation,
 * and does NOT perform the prohibited-output, bidi or unassigned-code-point checks of
 * SASLprep or the disallowed-class check of OpaqueString: the password is the operator's
 * own configuration, never network input, and rejecting it would only break login.
 * ASCII passwords (all TURN REST credentials) are returned unchanged.
 */

// RFC 3454 B.1 "commonly mapped to nothing".
function isMappedToNothing(c: number): boolean {
  return (
    c === 0x00ad ||
    c === 0x034f ||
    c === 0x1806 ||
    (c >= 0x180b && c <= 0x180d) ||
    (c >= 0x200b && c <= 0x200d) ||
    c === 0x2060 ||
    (c >= 0xfe00 && c <= 0xfe0f) ||
    c === 0xfeff
  );
}

// RFC 3454 C.1.2 "non-ASCII space characters" (U+200B is in B.1 too, which wins).
function isNonAsciiSpace(c: number): boolean {
  return (
    c === 0x00a0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

/** The prepared form of a password (see the module comment for what is done). */
export function preparePassword(password: string): string {
  let ascii = true;
  for (let i = 0; i < password.length; i++) {
    if (password.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) return password;
  let mapped = '';
  for (const ch of password) {
    const c = ch.codePointAt(0)!;
    if (isMappedToNothing(c)) continue;
    mapped += isNonAsciiSpace(c) ? ' ' : ch;
  }
  return mapped.normalize('NFKC');
}
