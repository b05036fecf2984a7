// @ts-check
/**
 * engine-layering: keeps engine/ layered as ARCHITECTURE.md draws it, in the manner of VS Code's
 * code-layering rule: the importing file's path names its layer, and every import must land in
 * an allowed layer.
 *
 *   trace (base, beside mem: importable by all)
 *   mem ← pgtable ← iotlb ← core ← drivers ← dma, checks (same level) ← script ← host ← cli
 *   session (the .iommulab file format): pure data, so it sees only trace and core's constants
 *   (kernel profile names, check ids); host and cli may import it, the simulation never does.
 *
 * Engine code is also environment-free: outside engine/cli/ and folders named `node/` it may not
 * import Node builtins or electron, and nothing in engine/ may import from renderer/ or main/.
 * (`web/` folders run in a Web Worker, so Node builtins are refused there too.) Test files
 * (`*.test.ts`) run in Node and may import Node builtins, and may drive the engine from any layer
 * (a driver's test runs a scenario through the script module): code is layered, tests are not.
 */
import { builtinModules } from 'node:module';
import path from 'node:path';

/** Layers bottom-up; layers sharing a rank may import each other. */
const RANK = {
  trace: 0,
  mem: 1,
  pgtable: 2,
  iotlb: 3,
  core: 4,
  drivers: 5,
  dma: 6,
  checks: 6,
  script: 7,
  session: 7.5,
  host: 8,
  cli: 9,
};
/** Layers that may import less than their rank allows. */
const ONLY = { session: ['trace', 'core'] };
const LAYERS = /** @type {(keyof typeof RANK)[]} */ (Object.keys(RANK));
const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** @param {string} layer */
export function allowedLayers(layer) {
  if (!(layer in RANK)) return [];
  const rank = RANK[/** @type {keyof typeof RANK} */ (layer)];
  const only = /** @type {Record<string, string[]>} */ (ONLY)[layer];
  return LAYERS.filter((l) => (only ? only.includes(l) : l === 'trace' || RANK[l] <= rank));
}

/**
 * The repo-relative, '/'-separated path of a file, or undefined when it is outside `root`.
 * @param {string} file
 * @param {string} root
 */
function relative(file, root) {
  const rel = path.relative(root, path.resolve(root, file)).split(path.sep).join('/');
  return rel.startsWith('../') || path.isAbsolute(rel) ? undefined : rel;
}

/** @type {import('eslint').Rule.RuleModule} */
const rule = {
  meta: {
    type: 'problem',
    docs: {
      description: 'engine/ layers import only layers below or beside them, and no Node, Electron or UI code',
    },
    schema: [],
    messages: {
      layer: 'bad layering: engine/{{layer}} may import only {{allowed}} (this imports engine/{{target}})',
      unknown: 'bad layering: engine/{{target}} is not a layer named in ARCHITECTURE.md ({{layers}})',
      ui: 'bad layering: engine code may not import from {{target}}/ (the renderer and main talk to the engine through engine/host)',
      builtin:
        "bad layering: engine/{{layer}} may not import '{{source}}' (Node builtins and electron only in engine/cli and node/ folders)",
    },
  },
  create(context) {
    const root = context.cwd;
    const file = relative(context.filename, root);
    if (file === undefined || !file.startsWith('engine/')) return {};
    const parts = file.split('/');
    const layer = parts.length > 2 ? parts[1] : '';
    const isTest = /\.test\.[cm]?[jt]s$/.test(file);
    const mayUseNode = layer === 'cli' || parts.slice(1, -1).includes('node') || isTest;

    /** @param {import('estree').Node} node @param {unknown} value */
    function check(node, value) {
      if (typeof value !== 'string') return;
      const source = value;
      if (!source.startsWith('.') && !source.startsWith('/')) {
        const bare = source.startsWith('node:') ? source : source.split('/')[0];
        if (!mayUseNode && (NODE_BUILTINS.has(bare) || NODE_BUILTINS.has(source) || bare === 'electron'))
          context.report({ node, messageId: 'builtin', data: { layer: layer || '(root)', source } });
        return;
      }
      const target = relative(path.resolve(path.dirname(path.resolve(root, file)), source), root);
      if (target === undefined) return;
      const top = target.split('/')[0];
      if (top === 'renderer' || top === 'main') {
        context.report({ node, messageId: 'ui', data: { target: top } });
        return;
      }
      if (top !== 'engine') return;
      const targetParts = target.split('/');
      const targetLayer = targetParts.length > 2 ? targetParts[1] : '';
      if (targetLayer === layer) return;
      if (!(targetLayer in RANK)) {
        context.report({
          node,
          messageId: 'unknown',
          data: { target: targetLayer || targetParts[1], layers: LAYERS.join(', ') },
        });
        return;
      }
      if (!(layer in RANK) || isTest) return;
      const allowed = allowedLayers(layer);
      if (!allowed.includes(/** @type {keyof typeof RANK} */ (targetLayer)))
        context.report({
          node,
          messageId: 'layer',
          data: { layer, target: targetLayer, allowed: allowed.map((l) => `engine/${l}`).join(', ') },
        });
    }

    /** @param {any} node */
    const fromSource = (node) => node.source && check(node.source, node.source.value);
    return {
      ImportDeclaration: fromSource,
      ExportNamedDeclaration: fromSource,
      ExportAllDeclaration: fromSource,
      /** @param {any} node */
      ImportExpression(node) {
        if (node.source.type === 'Literal') check(node.source, node.source.value);
      },
      /** @param {any} node */
      CallExpression(node) {
        if (
          node.callee.type === 'Identifier' &&
          node.callee.name === 'require' &&
          node.arguments[0]?.type === 'Literal'
        )
          check(node.arguments[0], node.arguments[0].value);
      },
      /** `import('x').T` in a type position. @param {any} node */
      TSImportType(node) {
        // typescript-eslint 8 names it `source`; `argument.literal` is the older, deprecated shape.
        const arg = node.source ?? node.argument?.literal;
        if (arg?.type === 'Literal') check(arg, arg.value);
      },
      /** `import x = require('y')`. @param {any} node */
      TSExternalModuleReference(node) {
        if (node.expression?.type === 'Literal') check(node.expression, node.expression.value);
      },
    };
  },
};

export default rule;
