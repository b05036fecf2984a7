/**
 * The two configuration structures the driver writes, a stream table entry (STE) and a context
 * descriptor (CD), as eight 64-bit words each with the fields where the SMMUv3 spec and
 * arm-smmu-v3.h put them, and the update sequence of the "entry writer" (arm_smmu_write_entry,
 * v6.9 for STEs, v6.10 for CDs): which words change in how many synced steps.
 *
 * Only the fields this lab's configurations set are declared; a field the driver never sets
 * (stage 2, ATS, stalls, ...) stays 0 and is left out of the "used" masks, as it is in Linux when
 * the entry does not use it.
 *
 * Entries are never changed in place: each write makes a new array (literals, map), so no keyed
 * store of this file runs after the sandbox's lockdown (script/warm-up.ts).
 */

export const ENTRY_QWORDS = 8;

/** An STE or a CD: ENTRY_QWORDS words. */
export type Entry = readonly bigint[];

/** An entry from its first words, the rest 0. */
function entry(w0: bigint, w1 = 0n, w2 = 0n, w3 = 0n): Entry {
  return [w0, w1, w2, w3, 0n, 0n, 0n, 0n];
}

/** Bits hi..lo set. */
const bits = (hi: number, lo: number): bigint => ((1n << BigInt(hi - lo + 1)) - 1n) << BigInt(lo);
const bit = (n: number): bigint => 1n << BigInt(n);
/** `value` placed in the field `mask` (FIELD_PREP). */
function prep(mask: bigint, value: number | bigint): bigint {
  let shift = 0n;
  while (((mask >> shift) & 1n) === 0n) shift++;
  return (BigInt(value) << shift) & mask;
}
/** The field `mask` of `word` (FIELD_GET). */
function get(mask: bigint, word: bigint): number {
  let shift = 0n;
  while (((mask >> shift) & 1n) === 0n) shift++;
  return Number((word & mask) >> shift);
}

export function zero_entry(): Entry {
  return entry(0n);
}

// ── STE (SMMUv3 spec 5.2; STRTAB_STE_*) ──

const STE0_V = bit(0);
const STE0_CFG = bits(3, 1);
const STE0_S1FMT = bits(5, 4);
const STE0_S1CTXPTR = bits(51, 6);
const STE0_S1CDMAX = bits(63, 59);
const STE1_S1DSS = bits(1, 0);
const STE1_S1CIR = bits(3, 2);
const STE1_S1COR = bits(5, 4);
const STE1_S1CSH = bits(7, 6);
const STE1_S1STALLD = bit(27);
const STE1_EATS = bits(29, 28);
const STE1_STRW = bits(31, 30);
const STE1_SHCFG = bits(45, 44);
const STE2_S2VMID = bits(15, 0);

const CFG_ABORT = 0;
const CFG_BYPASS = 4;
const CFG_S1_TRANS = 5;
/** S1DSS: what a transaction without a substream ID uses. */
const S1DSS_SSID0 = 2;
const CACHE_WBRA = 1;
const SH_ISH = 3;

/** STE.Config abort: every access fails, none is recorded. */
export function abort_ste(): Entry {
  return entry(STE0_V | prep(STE0_CFG, CFG_ABORT));
}

/**
 * STE.Config bypass. SHCFG stays 0: the driver sets it to "incoming" only on an SMMU with
 * IDR1.ATTR_TYPES_OVR, which the lab's SMMU does not report.
 */
export function bypass_ste(): Entry {
  return entry(STE0_V | prep(STE0_CFG, CFG_BYPASS));
}

/**
 * Stage-1 translation through the master's CD table (linear, one CD: no substreams), the CD
 * table walked write-back read-allocate, inner shareable; NS-EL1 stream world, VMID 0.
 */
export function cdtable_ste(cdtab: bigint): Entry {
  return entry(
    STE0_V | prep(STE0_CFG, CFG_S1_TRANS) | (cdtab & STE0_S1CTXPTR),
    prep(STE1_S1DSS, S1DSS_SSID0) |
      prep(STE1_S1CIR, CACHE_WBRA) |
      prep(STE1_S1COR, CACHE_WBRA) |
      prep(STE1_S1CSH, SH_ISH),
  );
}

/** The STE bits the SMMU reads for this entry (arm_smmu_get_ste_used). */
export function ste_used(e: Entry): Entry {
  if ((e[0] & STE0_V) === 0n) return entry(STE0_V);
  let u0 = STE0_V | STE0_CFG;
  let u1 = 0n;
  let u2 = 0n;
  const cfg = get(STE0_CFG, e[0]);
  if (cfg & 1) {
    u0 |= STE0_S1FMT | STE0_S1CTXPTR | STE0_S1CDMAX;
    u1 |= STE1_S1DSS | STE1_S1CIR | STE1_S1COR | STE1_S1CSH | STE1_S1STALLD | STE1_STRW | STE1_EATS;
    u2 |= STE2_S2VMID;
    if (get(STE1_S1DSS, e[1]) === 1) u1 |= STE1_SHCFG;
  }
  if (cfg === CFG_BYPASS) u1 |= STE1_SHCFG;
  return entry(u0, u1, u2);
}

// ── CD (SMMUv3 spec 5.4; CTXDESC_CD_*) ──

const CD0_T0SZ = bits(5, 0);
const CD0_TG0 = bits(7, 6);
const CD0_IRGN0 = bits(9, 8);
const CD0_ORGN0 = bits(11, 10);
const CD0_SH0 = bits(13, 12);
const CD0_EPD0 = bit(14);
const CD0_EPD1 = bit(30);
const CD0_V = bit(31);
const CD0_IPS = bits(34, 32);
const CD0_AA64 = bit(41);
const CD0_R = bit(45);
const CD0_A = bit(46);
const CD0_ASET = bit(47);
const CD0_ASID = bits(63, 48);
const CD1_TTB0 = bits(51, 4);

const ALL = bits(63, 0);
/** TCR.TG0 per granule. */
const TG0: Record<number, number> = { 4096: 0, 65536: 1, 16384: 2 };
/** TCR.IPS per output size. */
const IPS: Record<number, number> = { 32: 0, 36: 1, 40: 2, 42: 3, 44: 4, 48: 5, 52: 6 };
/** io-pgtable-arm's MAIR: attr 0 non-cacheable, 1 write-back (IOMMU_CACHE), 2 device (IOMMU_MMIO). */
const LPAE_MAIR = 0x04ff44n;
const RGN_WBWA = 1;

export interface S1Context {
  asid: number;
  /** TTB0: the stage-1 table's root. */
  ttb: number;
  ias: number;
  oas: number;
  granule: number;
}

/**
 * A stage-1 CD for a domain's table and ASID (arm_smmu_make_s1_cd, and the values v6.6/v6.8's
 * arm_smmu_write_ctx_desc builds from arm_smmu_ctx_desc): TTB1 walks disabled (EPD1), AArch64
 * tables, faults recorded (R), a faulting access aborted rather than read as zero (A, "Abort"),
 * ASID not shared with the CPU (ASET). HA and AFFD (bit 35) stay clear: a leaf with AF=0 faults.
 */
export function s1_cd(c: S1Context): Entry {
  const w0 =
    prep(CD0_T0SZ, 64 - c.ias) |
    prep(CD0_TG0, TG0[c.granule]) |
    prep(CD0_IRGN0, RGN_WBWA) |
    prep(CD0_ORGN0, RGN_WBWA) |
    prep(CD0_SH0, SH_ISH) |
    CD0_EPD1 |
    CD0_V |
    prep(CD0_IPS, IPS[c.oas]) |
    CD0_AA64 |
    CD0_R |
    CD0_A |
    CD0_ASET |
    prep(CD0_ASID, c.asid);
  return entry(w0, BigInt(c.ttb) & CD1_TTB0, 0n, LPAE_MAIR);
}

/** The CD bits the SMMU reads (arm_smmu_get_cd_used): only V of an invalid CD, else all of it. */
export function cd_used(e: Entry): Entry {
  if ((e[0] & CD0_V) === 0n) return entry(CD0_V);
  // With EPD0 set, the TTB0 walk's fields are ignored.
  const epd0 = (e[0] & CD0_EPD0) !== 0n;
  const u0 = epd0 ? ALL & ~(CD0_T0SZ | CD0_TG0 | CD0_IRGN0 | CD0_ORGN0 | CD0_SH0) : ALL;
  const u1 = epd0 ? ALL & ~CD1_TTB0 : ALL;
  return [u0, u1, ALL, ALL, ALL, ALL, ALL, ALL];
}

export function cd_valid(e: Entry): boolean {
  return (e[0] & CD0_V) !== 0n;
}

/** The ASID a valid CD tags its translations with (0 for an invalid one). */
export function cd_asid(e: Entry): number {
  return cd_valid(e) ? get(CD0_ASID, e[0]) : 0;
}

/** `e` with word `i` replaced. */
export function with_word(e: Entry, i: number, w: bigint): Entry {
  return e.map((old, k) => (k === i ? w : old));
}

/** `e` with the words first..first+count-1 taken from `from`. */
function with_words(e: Entry, from: Entry, first: number, count: number): Entry {
  return e.map((old, k) => (k >= first && k < first + count ? from[k] : old));
}

/** v6.6/v6.8 arm_smmu_write_ctx_desc's case (3): a live CD gets the new ASID in word 0, nothing else. */
export function with_asid(e: Entry, asid: number): Entry {
  return with_word(e, 0, (e[0] & ALL & ~CD0_ASID) | prep(CD0_ASID, asid));
}

/** v6.6/v6.8 arm_smmu_write_ctx_desc's case (1): words 1–3 of `target` first, word 0 after a sync. */
export function with_words_after_0(e: Entry, target: Entry): Entry {
  return with_words(e, target, 1, 3);
}

// ── arm_smmu_write_entry ──

/**
 * Move `current` to `target` the way arm_smmu_write_entry does: the entry written, and how many
 * steps changed a word (each one the writer's CFGI_STE or CFGI_CD + CMD_SYNC). Words the current
 * entry does not use are written first, then:
 *  - one word's used bits differ ("hitless"): that critical word alone, then whatever the target
 *    no longer uses is cleared — up to three steps, each only if it changed something;
 *  - more than one differ ("disruptive"): V=0, then words 1.., then word 0 — three steps;
 *  - none differ: a last write of the unused bits (the kernel WARNs if that changes anything).
 */
export function write_entry(
  current: Entry,
  target: Entry,
  used: (e: Entry) => Entry,
): { entry: Entry; steps: number } {
  const cur_used = used(current);
  const target_used = used(target);
  // The current entry with every bit it does not use already at its target value.
  const staged = current.map((w, i) => (w & cur_used[i]) | (target[i] & ALL & ~cur_used[i]));
  const differing = staged.reduce((m, w, i) => ((w & target_used[i]) !== target[i] ? m | (1 << i) : m), 0);
  let e = current;
  let steps = 0;
  const set = (from: Entry, first: number, count: number): void => {
    const next = with_words(e, from, first, count);
    if (next.every((w, i) => w === e[i])) return;
    e = next;
    steps++;
  };
  const critical = differing && (differing & (differing - 1)) === 0 ? Math.log2(differing) : -1;
  if (critical >= 0) {
    set(with_word(staged, critical, current[critical]), 0, ENTRY_QWORDS);
    set(target, critical, 1);
    set(target, 0, ENTRY_QWORDS);
  } else if (differing) {
    set(with_word(staged, 0, 0n), 0, 1);
    set(target, 1, ENTRY_QWORDS - 1);
    set(target, 0, 1);
  } else {
    set(target, 0, ENTRY_QWORDS);
  }
  return { entry: e, steps };
}
