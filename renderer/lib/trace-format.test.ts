import { describe, expect, it } from 'vitest';
import { eventDetail, traceFormat, type TraceEvent } from './trace-format.ts';

const f = traceFormat(
  {
    events: [
      {
        name: 'map',
        kind: 'call',
        fields: [
          { name: 'domain', type: 'u' },
          { name: 'iova', type: 'x' },
          { name: 'size', type: 'x' },
          { name: 'ret', type: 'i' },
        ],
      },
      {
        name: 'dma_access',
        kind: 'dma',
        fields: [
          { name: 'device', type: 's' },
          { name: 'write', type: 'b' },
        ],
      },
    ],
    api: {
      iommu_map: ['domain', 'iova', 'paddr', 'size', 'prot'],
      iommu_attach_device: ['domain', 'dev'],
      'lab.add_iommu': ['name', 'driver', 'options'],
    },
  },
  new Map([[22, 'EINVAL']]),
);

const ev = (name: string, fields: Record<string, number | string | boolean>): TraceEvent => ({
  step: 3,
  kind: 'call',
  name,
  ...fields,
});

describe('eventDetail', () => {
  it('shows addresses and sizes in hex and names errnos', () => {
    expect(eventDetail(ev('map', { domain: 2, iova: 0x10000, size: 4096, ret: -22 }), f)).toBe(
      'domain=2 iova=0x10000 size=0x1000 ret=-22 (-EINVAL)',
    );
    expect(eventDetail(ev('dma_access', { device: 'dev0', write: true }), f)).toBe('device=dev0 write=true');
  });

  it('shows an api_call as the call with its arguments named, handles by name', () => {
    const call = ev('api_call', {
      fn: 'iommu_map',
      a0: 'domain 1',
      a1: 0x10000,
      a2: 0x80000000,
      a3: 0x1000,
      a4: 3,
    });
    expect(eventDetail(call, f)).toBe(
      'iommu_map(domain 1, iova=0x10000, paddr=0x80000000, size=0x1000, prot=0x3)',
    );
    expect(eventDetail(ev('api_call', { fn: 'iommu_attach_device', a0: 'NULL', a1: 'device nic0' }), f)).toBe(
      'iommu_attach_device(domain=NULL, device nic0)',
    );
    // Strings as strings; an argument not passed is not in the event, and not in the row.
    expect(eventDetail(ev('api_call', { fn: 'lab.add_iommu', a0: '"smmu0"', a1: '"arm-smmu-v3"' }), f)).toBe(
      'lab.add_iommu(name="smmu0", driver="arm-smmu-v3")',
    );
    expect(eventDetail(ev('api_return', { fn: 'iommu_map', ret: -22 }), f)).toBe('iommu_map → -22 (-EINVAL)');
    expect(eventDetail(ev('api_return', { fn: 'lab.add_iommu', ret: 'iommu smmu0' }), f)).toBe(
      'lab.add_iommu → iommu smmu0',
    );
    expect(eventDetail(ev('api_return', { fn: 'iommu_detach_device' }), f)).toBe(
      'iommu_detach_device → void',
    );
  });

  it('shows an unknown event by its fields as they came', () => {
    expect(eventDetail(ev('new_event', { x: 1 }), f)).toBe('x=1');
  });
});
