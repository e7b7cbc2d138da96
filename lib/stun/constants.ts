/**
 * STUN wire constants (RFC 8489 §5, §18) and the attribute/error registries used by TURN
 * (RFC 8656), ICE (RFC 8445) and their extensions.
 */

/** RFC 8489 §5: the fixed value in bytes 4..7 of every STUN message. */
export const MAGIC_COOKIE = 0x2112a442;
/** Bytes of the STUN header: type (2), length (2), cookie (4), transaction ID (12). */
export const HEADER_LENGTH = 20;
/** Bytes of a transaction ID (RFC 8489 §5). */
export const TRANSACTION_ID_LENGTH = 12;

/** The two class bits of the message type (RFC 8489 §5). */
export const StunClass = { request: 0, indication: 1, success: 2, error: 3 } as const;
export type StunClass = (typeof StunClass)[keyof typeof StunClass];

/** Methods: Binding (RFC 8489), TURN methods (RFC 8656 §17). */
export const StunMethod = {
  binding: 0x001,
  allocate: 0x003,
  refresh: 0x004,
  send: 0x006,
  data: 0x007,
  createPermission: 0x008,
  channelBind: 0x009,
} as const;

/** Attribute types (IANA "STUN Attributes" registry). */
export const AttributeType = {
  MAPPED_ADDRESS: 0x0001,
  USERNAME: 0x0006,
  MESSAGE_INTEGRITY: 0x0008,
  ERROR_CODE: 0x0009,
  UNKNOWN_ATTRIBUTES: 0x000a,
  CHANNEL_NUMBER: 0x000c,
  LIFETIME: 0x000d,
  XOR_PEER_ADDRESS: 0x0012,
  DATA: 0x0013,
  REALM: 0x0014,
  NONCE: 0x0015,
  XOR_RELAYED_ADDRESS: 0x0016,
  REQUESTED_ADDRESS_FAMILY: 0x0017,
  EVEN_PORT: 0x0018,
  REQUESTED_TRANSPORT: 0x0019,
  DONT_FRAGMENT: 0x001a,
  MESSAGE_INTEGRITY_SHA256: 0x001c,
  PASSWORD_ALGORITHM: 0x001d,
  USERHASH: 0x001e,
  XOR_MAPPED_ADDRESS: 0x0020,
  RESERVATION_TOKEN: 0x0022,
  PRIORITY: 0x0024,
  USE_CANDIDATE: 0x0025,
  ADDITIONAL_ADDRESS_FAMILY: 0x8000,
  ADDRESS_ERROR_CODE: 0x8001,
  PASSWORD_ALGORITHMS: 0x8002,
  ALTERNATE_DOMAIN: 0x8003,
  ICMP: 0x8004,
  SOFTWARE: 0x8022,
  ALTERNATE_SERVER: 0x8023,
  FINGERPRINT: 0x8028,
  ICE_CONTROLLED: 0x8029,
  ICE_CONTROLLING: 0x802a,
} as const;

/** ERROR-CODE values used by STUN, TURN and ICE. */
export const ErrorCode = {
  TRY_ALTERNATE: 300,
  BAD_REQUEST: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  UNKNOWN_ATTRIBUTE: 420,
  ALLOCATION_MISMATCH: 437,
  STALE_NONCE: 438,
  ADDRESS_FAMILY_NOT_SUPPORTED: 440,
  WRONG_CREDENTIALS: 441,
  UNSUPPORTED_TRANSPORT_PROTOCOL: 442,
  PEER_ADDRESS_FAMILY_MISMATCH: 443,
  CONNECTION_ALREADY_EXISTS: 446,
  ALLOCATION_QUOTA_REACHED: 486,
  ROLE_CONFLICT: 487,
  SERVER_ERROR: 500,
  INSUFFICIENT_CAPACITY: 508,
} as const;

const REASON_PHRASES: ReadonlyMap<number, string> = new Map([
  [300, 'Try Alternate'], // RFC 8489 §14.8
  [400, 'Bad Request'],
  [401, 'Unauthenticated'],
  [403, 'Forbidden'], // RFC 8656 §19
  [420, 'Unknown Attribute'],
  [437, 'Allocation Mismatch'],
  [438, 'Stale Nonce'],
  [440, 'Address Family not Supported'],
  [441, 'Wrong Credentials'],
  [442, 'Unsupported Transport Protocol'],
  [443, 'Peer Address Family Mismatch'],
  [446, 'Connection Already Exists'], // RFC 6062 §6.3
  [447, 'Connection Timeout or Failure'],
  [486, 'Allocation Quota Reached'],
  [487, 'Role Conflict'], // RFC 8445 §19.2
  [500, 'Server Error'],
  [508, 'Insufficient Capacity'],
]);

/** The reason phrase the RFCs recommend for `code`, or `'Error'` for a code they do not name. */
export function reasonPhrase(code: number): string {
  return REASON_PHRASES.get(code) ?? 'Error';
}

/** PASSWORD-ALGORITHM values (RFC 8489 §18.5). */
export const PasswordAlgorithm = { MD5: 0x0001, SHA256: 0x0002 } as const;
export type PasswordAlgorithm = (typeof PasswordAlgorithm)[keyof typeof PasswordAlgorithm];

/** XOR of the FINGERPRINT CRC-32 (RFC 8489 §14.7): the ASCII bytes "STUN". */
export const FINGERPRINT_XOR = 0x5354554e;
