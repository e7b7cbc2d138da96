/** An HTTP-facing error of the WHIP/WHEP front: status 400/404/413/415/422/503, stable code. */
export class WhipError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'WhipError';
  }
}
