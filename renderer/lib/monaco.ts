/**
 * Monaco, set up once: only the editor core, its features and TypeScript (the rest of the 100 MB
 * package stays out of the bundle), the two workers, the lab's themes, and IntelliSense for
 * `iommu-lab` from engine/script/iommu-lab.d.ts — the same file the engine is checked against, so
 * completions cannot drift from what runs.
 */
import * as monaco from 'monaco-editor/editor';
import 'monaco-editor/features/register.all';
import 'monaco-editor/languages/definitions/typescript/register';
import {
  getTypeScriptWorker,
  typescriptDefaults,
} from 'monaco-editor/languages/features/typescript/register';
import EditorWorker from 'monaco-editor/editor/editor.worker?worker';
import TsWorker from './ts.worker.ts?worker';
import labApi from '../../engine/script/iommu-lab.d.ts?raw';
import { SCRIPT_GLOBALS_DECL, SCRIPT_COMPILER_OPTIONS } from './script-types.ts';
import { watchScriptDiagnostics } from './ts-diagnostics.ts';

export { monaco };

/** Where the declarations live for the TypeScript worker: `import … from 'iommu-lab'` resolves here. */
export const LAB_API_URI = 'file:///node_modules/iommu-lab/index.d.ts';
/** Scripts are models under this folder so tabs can import each other as `./name`. */
export const SCRIPT_ROOT = 'file:///scripts/';

export const LIGHT_THEME = 'iommu-lab-light';
export const DARK_THEME = 'iommu-lab-dark';

let initialised = false;

export function initMonaco(): typeof monaco {
  if (initialised) return monaco;
  initialised = true;

  self.MonacoEnvironment = {
    getWorker(_workerId: string, label: string): Worker {
      return label === 'typescript' || label === 'javascript' ? new TsWorker() : new EditorWorker();
    },
  };

  typescriptDefaults.setCompilerOptions(SCRIPT_COMPILER_OPTIONS);
  // The scripts' markers come from ts-diagnostics.ts: every tab checked against all the others, and
  // type errors as warnings (scripts run whatever their types say).
  typescriptDefaults.setModeConfiguration({ ...typescriptDefaults.modeConfiguration, diagnostics: false });
  typescriptDefaults.setEagerModelSync(true);
  typescriptDefaults.addExtraLib(labApi, LAB_API_URI);
  typescriptDefaults.addExtraLib(
    SCRIPT_GLOBALS_DECL,
    'file:///node_modules/@types/iommu-lab-globals/index.d.ts',
  );
  watchScriptDiagnostics(monaco, typescriptDefaults, getTypeScriptWorker, SCRIPT_ROOT);

  monaco.editor.defineTheme(LIGHT_THEME, {
    base: 'vs',
    inherit: true,
    rules: [],
    colors: {
      'editor.background': '#fbfbfa',
      'editorGutter.background': '#fbfbfa',
      'editorLineNumber.foreground': '#a4a7ad',
      'editor.lineHighlightBackground': '#f0f1f3',
    },
  });
  monaco.editor.defineTheme(DARK_THEME, {
    base: 'vs-dark',
    inherit: true,
    rules: [],
    colors: {
      'editor.background': '#1b1d21',
      'editorGutter.background': '#1b1d21',
      'editorLineNumber.foreground': '#5b6069',
      'editor.lineHighlightBackground': '#23262b',
    },
  });
  return monaco;
}
