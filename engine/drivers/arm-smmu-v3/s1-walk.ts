/**
 * io-pgtable-arm's stage-1 format as the SMMU's table walker reads it. A leaf's Access flag is
 * something the walker checks and Linux's prot does not have: Linux never sets CD.HA or CD.AFFD, so
 * an access through a leaf with AF clear takes an Access flag fault (F_ACCESS; QEMU smmu_ptw_64_s1,
 * SMMU_PTW_ERR_ACCESS). arm_lpae_prot_to_pte always sets AF, so only a table written with
 * lab.mem.write has such a leaf. The decoded prot carries LEAF_AF_CLEAR for one, so the walk needs
 * no second read of the descriptor. The encoders ignore the bit: a block with AF clear that a
 * partial unmap splits comes out as pages with AF set (Linux's split copies the block's AF).
 */
import { ArmLpaeS1Format } from '../../pgtable/formats/arm-lpae-s1.ts';

/** Descriptor bit 10, AF (arm-lpae-s1.ts). */
const AF = 1 << 10;

/** Above every IOMMU_* flag: set in a walked leaf's prot when the leaf's AF is clear. */
export const LEAF_AF_CLEAR = 1 << 30;

class SmmuS1Format extends ArmLpaeS1Format {
  override leaf_prot(lo: number, hi: number, lvl: number): number {
    const prot = super.leaf_prot(lo, hi, lvl);
    return lo & AF ? prot : prot | LEAF_AF_CLEAR;
  }
}

export const SMMU_S1 = new SmmuS1Format();
