#!/usr/bin/env node
// The `iommu-lab` command. TypeScript sources run through tsx's loader, so a fresh `npm ci` is
// enough: no build step.
import { register } from 'tsx/esm/api';

register();
await import(new URL('../engine/cli/main.ts', import.meta.url).href);
