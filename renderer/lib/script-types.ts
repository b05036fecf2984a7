/**
 * What the editor's TypeScript worker checks scripts with: the compiler options and the globals a
 * script sees besides the `iommu-lab` module. Kept apart from monaco.ts (which needs a browser) so
 * a test can check the shipped scenarios and the API's declaration file exactly as the editor does.
 *
 * The numbers are TypeScript's enum values (Monaco re-exports the same enums).
 */
export const SCRIPT_COMPILER_OPTIONS = {
  target: 7, // ScriptTarget.ES2020
  module: 99, // ModuleKind.ESNext
  moduleResolution: 2, // ModuleResolutionKind.NodeJs
  allowNonTsExtensions: true,
  allowImportingTsExtensions: true,
  // A .ts tab may import a .js tab (the runner loads either); checkJs stays off.
  allowJs: true,
  noEmit: true,
  strict: true,
  lib: ['es2022'],
  types: [] as string[],
};

/**
 * The globals the runner gives a script besides the language's own: `console` (log/info/warn/error/
 * debug) and the pure web helpers of engine/script/sandbox.ts (HOST_HELPERS); nothing else of the DOM.
 */
export const SCRIPT_GLOBALS_DECL = `
interface Console {
  log(...data: unknown[]): void;
  info(...data: unknown[]): void;
  warn(...data: unknown[]): void;
  error(...data: unknown[]): void;
  debug(...data: unknown[]): void;
}
declare var console: Console;
/** UTF-8 text to bytes (for lab.mem.write, dev.dma_write). */
declare class TextEncoder {
  readonly encoding: string;
  encode(input?: string): Uint8Array;
}
/** Bytes to text (lab.mem.read, dma_read's data). */
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  readonly encoding: string;
  decode(input?: ArrayBufferView | ArrayBuffer, options?: { stream?: boolean }): string;
}
declare function structuredClone<T>(value: T): T;
declare function atob(data: string): string;
declare function btoa(data: string): string;
`;
