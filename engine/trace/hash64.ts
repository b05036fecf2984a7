/**
 * A fast, deterministic 64-bit hash for comparing logs across runs (not for security): two
 * 32-bit lanes, one with murmur3's mixing and one FNV-like, fed 32-bit words.
 */
export class Hash64 {
  private a = 0x9747b28c | 0;
  private b = 0x811c9dc5 | 0;
  private readonly f64 = new Float64Array(1);
  private readonly f64Words = new Uint32Array(this.f64.buffer);

  word(k: number): void {
    let x = Math.imul(k | 0, 0xcc9e2d51);
    x = (x << 15) | (x >>> 17);
    x = Math.imul(x, 0x1b873593);
    let a = this.a ^ x;
    a = (a << 13) | (a >>> 19);
    this.a = (Math.imul(a, 5) + 0xe6546b64) | 0;
    let b = Math.imul(this.b ^ k, 0x01000193);
    b ^= b >>> 15;
    this.b = Math.imul(b, 0x2c1b3c6d);
  }

  number(v: number): void {
    this.f64[0] = v;
    this.word(this.f64Words[0]);
    this.word(this.f64Words[1]);
  }

  words(a: Uint32Array, n: number): void {
    for (let i = 0; i < n; i++) this.word(a[i]);
  }

  units(a: Uint16Array, n: number): void {
    let i = 0;
    for (; i + 1 < n; i += 2) this.word(a[i] | (a[i + 1] << 16));
    if (i < n) this.word(a[i]);
  }

  string(s: string): void {
    this.word(s.length);
    for (let i = 0; i < s.length; i++) this.word(s.charCodeAt(i));
  }

  hex(): string {
    let a = this.a ^ (this.a >>> 16);
    a = Math.imul(a, 0x85ebca6b);
    a ^= a >>> 13;
    let b = this.b ^ (this.b >>> 16);
    b = Math.imul(b, 0xc2b2ae35);
    b ^= b >>> 16;
    return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
  }
}
