/** The desktop shell's bridge (main/preload.ts), or null in the browser. */
import type { LabBridge } from '../../main/bridge-api.ts';

declare global {
  interface Window {
    iommuLab?: LabBridge;
  }
}

export function labBridge(): LabBridge | null {
  return typeof window !== 'undefined' && window.iommuLab ? window.iommuLab : null;
}
