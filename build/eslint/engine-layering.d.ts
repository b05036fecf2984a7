import type { Rule } from 'eslint';

/** The layers `layer` may import, bottom-up (empty for a folder that is not a layer). */
export function allowedLayers(layer: string): string[];

declare const rule: Rule.RuleModule;
export default rule;
