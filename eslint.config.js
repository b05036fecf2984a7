// @ts-check
// Lint rules that find mistakes; layout is Prettier's job, so nothing stylistic here.
// typescript-eslint runs without type information to stay fast: `tsc` does the type checking.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import engineLayering from './build/eslint/engine-layering.js';

/** Unused names are errors, except `_`-prefixed ones (placeholders kept for a signature). */
const unusedVars = [
  'error',
  {
    args: 'after-used',
    argsIgnorePattern: '^_',
    varsIgnorePattern: '^_',
    caughtErrorsIgnorePattern: '^_',
    destructuredArrayIgnorePattern: '^_',
    ignoreRestSiblings: true,
  },
];

export default defineConfig([
  globalIgnores([
    '**/node_modules/',
    'out/',
    'dist/',
    'release/',
    'test-results/',
    '.vite/',
    'docs/screenshots/',
  ]),

  js.configs.recommended,
  tseslint.configs.recommended,
  svelte.configs.recommended,

  {
    rules: {
      'no-unused-vars': unusedVars,
      '@typescript-eslint/no-unused-vars': unusedVars,
      // Worth fixing, but not worth failing a build over (`eslint --fix` handles prefer-const).
      'prefer-const': 'warn',
      'no-useless-assignment': 'warn',
      // `const table = this` feeds getters of a returned object literal; that is deliberate.
      '@typescript-eslint/no-this-alias': 'off',
      // `interface XOptions extends CommonOptions {}` names a driver's options even when empty.
      '@typescript-eslint/no-empty-object-type': ['error', { allowInterfaces: 'with-single-extends' }],
      // Fires on `SomeProto.isPrototypeOf(v)` with a known prototype; TypeScript code rarely
      // calls Object.prototype methods on arbitrary objects.
      'no-prototype-builtins': 'off',
    },
  },
  {
    files: ['**/*.ts', '**/*.svelte'],
    // TypeScript resolves names itself; the core rules would flag types and ambient globals.
    rules: { 'no-unused-vars': 'off', 'no-undef': 'off' },
  },

  // Environments, as the tsconfig files split them.
  {
    files: ['**/*.{js,cjs,mjs}', 'bin/**', 'scripts/**', 'bench/**', 'tests/**', 'build/**', 'main/**'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['engine/cli/**', 'engine/**/node/**', '**/*.test.ts'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['renderer/**', 'engine/**/web/**'],
    languageOptions: { globals: { ...globals.browser, ...globals.worker } },
  },
  // End-to-end tests pass functions to the page (`page.evaluate`), which run in the browser.
  { files: ['tests/**'], languageOptions: { globals: { ...globals.browser } } },
  {
    files: ['**/*.svelte', '**/*.svelte.ts', '**/*.svelte.js'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] } },
    // A plain Map or Set in a component is often not state; Svelte's reactive ones are for when it is.
    // `let { a, b = $bindable() } = $props()` is how Svelte 5 declares props: svelte/prefer-const
    // knows the runes, the core rule does not.
    rules: { 'svelte/prefer-svelte-reactivity': 'off', 'prefer-const': 'off', 'svelte/prefer-const': 'warn' },
  },

  // engine/ is layered (ARCHITECTURE.md) and free of Node, Electron and UI imports.
  {
    files: ['engine/**/*.{ts,js}'],
    plugins: { local: { rules: { 'engine-layering': engineLayering } } },
    rules: { 'local/engine-layering': 'error' },
  },
]);
