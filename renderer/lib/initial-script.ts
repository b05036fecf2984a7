/** The text a new lab opens with: a small scenario that runs as is and shows the loop (map, DMA, check). */
export const INITIAL_SCRIPT = `import {
  lab, expect, IS_ERR,
  iommu_paging_domain_alloc, iommu_attach_device, iommu_map, iommu_iova_to_phys,
  IOMMU_READ, IOMMU_WRITE, SZ_4K,
} from 'iommu-lab';

// One Arm SMMUv3 with a PCI NIC behind it (kernel profile: the status bar's).
const smmu = lab.add_iommu('smmu0', 'arm-smmu-v3');
const nic = lab.add_device('nic0', { iommu: smmu });

// A paging domain of our own, as VFIO would allocate it, attached to the NIC.
const domain = iommu_paging_domain_alloc(nic);
if (IS_ERR(domain)) throw new Error('no paging domain');
expect(iommu_attach_device(domain, nic)).toBe(0);

// One page of RAM, mapped at IOVA 0x10000.
const buf = lab.mem.alloc(SZ_4K);
lab.mem.write(buf, [0xde, 0xad, 0xbe, 0xef]);
expect(iommu_map(domain, 0x10000, buf, SZ_4K, IOMMU_READ | IOMMU_WRITE)).toBe(0);
expect(iommu_iova_to_phys(domain, 0x10000)).toBe(buf);

// The device reads it through the IOMMU: a miss first, then an IOTLB hit.
for (const pass of [1, 2]) {
  const r = nic.dma_read(0x10000, 4);
  if (!r.ok) throw new Error(\`fault: \${r.fault.reason}\`);
  console.log(\`dma_read #\${pass}: iova 0x10000 -> pa 0x\${r.pa.toString(16)} (\${r.tlb})\`);
}
`;

/** A new tab's text: just the import, ready to type. */
export const NEW_TAB_SCRIPT = `import { lab, expect } from 'iommu-lab';

`;
