/** 0x-prefixed hex for messages and trace text. */
export function hex(n: number): string {
  return '0x' + n.toString(16);
}
