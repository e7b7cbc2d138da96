/** Error codes of the SFU router (stable, for callers and logs). */
export const SfuErrorCode = {
  /** A finite limit (rooms, participants, producers, consumers, layers) was reached. */
  LIMIT: 'SFU_ERR_LIMIT',
  /** The object was already closed. */
  CLOSED: 'SFU_ERR_CLOSED',
  /** An id or SSRC already in use. */
  DUPLICATE: 'SFU_ERR_DUPLICATE',
  /** Parameters that do not describe a usable track or subscription. */
  INVALID: 'SFU_ERR_INVALID',
} as const;
export type SfuErrorCode = (typeof SfuErrorCode)[keyof typeof SfuErrorCode];

export class SfuError extends Error {
  readonly code: SfuErrorCode;
  constructor(code: SfuErrorCode, message: string) {
    super(message);
    this.name = 'SfuError';
    this.code = code;
  }
}
