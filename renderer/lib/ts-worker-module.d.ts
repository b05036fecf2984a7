/** The parts of Monaco's TypeScript worker module (shipped without types) that ts.worker.ts uses. */
declare module 'monaco-editor/languages/features/typescript/ts.worker' {
  /** Monaco's language service host over the models the page has sent to the worker. */
  export class TypeScriptWorker {
    constructor(ctx: unknown, createData: unknown);
    getScriptVersion(fileName: string): string;
    /** The worker's copy of a model (a new object for every model the page sends), or null. */
    _getModel(fileName: string): object | null;
  }
  /** Starts the worker on its first message: `create` makes the object the page talks to. */
  export function initialize(create: (ctx: unknown, createData: unknown) => unknown): void;
}
