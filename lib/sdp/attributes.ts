/**
 * Generic `a=` access (RFC 8866 §5.13): `a=<name>` (a flag) or `a=<name>:<value>`. Every
 * typed view in this folder is built on these; they read the lines each time, so edits to
 * `lines` are seen at once.
 */
import type { SdpLine } from './description.js';

export interface Attribute {
  name: string;
  /** Undefined for a flag attribute (`a=rtcp-mux`); may be '' for `a=name:`. */
  value: string | undefined;
}

/** Splits an `a=` line's value at the first ':'. */
export function splitAttribute(text: string): Attribute {
  const colon = text.indexOf(':');
  return colon < 0
    ? { name: text, value: undefined }
    : { name: text.slice(0, colon), value: text.slice(colon + 1) };
}

/** Every attribute of a section, in order. */
export function attributesOf(lines: readonly SdpLine[]): Attribute[] {
  const out: Attribute[] = [];
  for (const l of lines) if (l.type === 'a') out.push(splitAttribute(l.value));
  return out;
}

/** The values of every `a=<name>:<value>` (flags give ''), in order. */
export function attributeValues(lines: readonly SdpLine[], name: string): string[] {
  const out: string[] = [];
  for (const l of lines) {
    if (l.type !== 'a') continue;
    const a = splitAttribute(l.value);
    if (a.name === name) out.push(a.value ?? '');
  }
  return out;
}

/** The first `a=<name>`'s value ('' for a flag), or undefined when absent. */
export function attributeValue(lines: readonly SdpLine[], name: string): string | undefined {
  return attributeValues(lines, name)[0];
}

export function hasAttribute(lines: readonly SdpLine[], name: string): boolean {
  return attributeValue(lines, name) !== undefined;
}

/** Appends `a=<name>[:<value>]`. */
export function addAttribute(lines: SdpLine[], name: string, value?: string): void {
  lines.push({ type: 'a', value: value === undefined ? name : `${name}:${value}` });
}

/** Removes every `a=<name>…`; returns how many were removed. */
export function removeAttributes(lines: SdpLine[], name: string): number {
  let kept = 0;
  let removed = 0;
  for (const l of lines) {
    if (l.type === 'a' && splitAttribute(l.value).name === name) removed++;
    else lines[kept++] = l;
  }
  lines.length = kept;
  return removed;
}

/** The values of every `<type>=` line (`c`, `b`, …), in order. */
export function fieldValues(lines: readonly SdpLine[], type: string): string[] {
  const out: string[] = [];
  for (const l of lines) if (l.type === type) out.push(l.value);
  return out;
}
