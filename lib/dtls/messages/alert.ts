import { AlertLevel } from '../constants.js';

/** Alert record payload (RFC 5246 §7.2): exactly two bytes. */
export interface Alert {
  level: number;
  description: number;
}

export function decodeAlert(fragment: Buffer): Alert | undefined {
  if (fragment.length !== 2) return undefined;
  return { level: fragment[0]!, description: fragment[1]! };
}

export function encodeAlert(m: Alert): Buffer {
  if (m.level !== AlertLevel.warning && m.level !== AlertLevel.fatal) {
    throw new TypeError(`alert level must be 1 or 2: ${m.level}`);
  }
  if (!Number.isInteger(m.description) || m.description < 0 || m.description > 255) {
    throw new TypeError(`alert description out of range: ${m.description}`);
  }
  return Buffer.of(m.level, m.description);
}
