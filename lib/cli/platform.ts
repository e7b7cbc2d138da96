/** dgram `reusePort` arrived in Node 22.12 and 23.1. */
export function reusePortSupported(versions: { node: string } = process.versions): boolean {
  const [major = 0, minor = 0] = versions.node.split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}
