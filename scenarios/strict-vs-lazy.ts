/**
 * Strict vs lazy DMA unmap — IOMMU-FACTS §4.3, scenario idea 12.
 *
 * In a strict DMA domain dma_unmap_single() invalidates the IOTLB before it returns: the device's
 * next access faults. In a DMA-FQ (lazy) domain the unmap only queues the IOVA: the device can still
 * reach the page through the stale IOTLB entry until the flush queue flushes (256 entries or 10 ms),
 * and the IOVA is not handed out again before that flush.
 */
import { lab, dma_map_single, dma_unmap_single, DMA_BIDIRECTIONAL, SZ_4K, expect } from 'iommu-lab';

const smmu = lab.add_iommu('smmu0', 'arm-smmu-v3');
const strict = lab.add_device('strict', { iommu: smmu, default_domain: 'dma' });
const lazy = lab.add_device('lazy', { iommu: smmu, default_domain: 'dma-fq' });
const buf = lab.mem.alloc(SZ_4K);
lab.mem.write(buf, [1, 2, 3, 4]);

// strict
let iova = dma_map_single(strict, buf, SZ_4K, DMA_BIDIRECTIONAL);
expect(strict.dma_read(iova, 4)).toMatchObject({ ok: true, tlb: 'miss' });
dma_unmap_single(strict, iova, SZ_4K, DMA_BIDIRECTIONAL);
expect(strict.dma_read(iova, 4).ok).toBe(false);

// lazy
iova = dma_map_single(lazy, buf, SZ_4K, DMA_BIDIRECTIONAL);
expect(lazy.dma_read(iova, 4)).toMatchObject({ ok: true, tlb: 'miss' });
dma_unmap_single(lazy, iova, SZ_4K, DMA_BIDIRECTIONAL);
const stale = lazy.dma_read(iova, 4);
expect(stale).toMatchObject({ ok: true, tlb: 'stale' });
expect(lab.checks().map((c) => c.id)).toContain('stale-iotlb-hit');

const again = dma_map_single(lazy, buf, SZ_4K, DMA_BIDIRECTIONAL);
expect(again).not.toBe(iova); // not reused before the flush
lab.advance_time(10);
expect(lazy.dma_read(iova, 4).ok).toBe(false);
