/**
 * File System Access in the browser tests: the pickers return handles to files in the origin-private
 * file system, which are real FileSystemFileHandles (IndexedDB keeps them, isSameEntry and permissions
 * work) — the OS file dialog itself cannot be driven in a headless browser. `window.__picks` holds the
 * names the next pickers return (a picker with none queued is cancelled, as a user would); each save
 * picker's suggested name is noted in `window.__suggested`.
 */
import type { BrowserContext, Page } from '@playwright/test';

/** Every page of `target` (a page, or each page of a context) gets the pickers above. */
export async function withPickedHandles(target: Page | BrowserContext): Promise<void> {
  await target.addInitScript(`(() => {
    window.__picks = [];
    window.__suggested = [];
    const next = async (create) => {
      const name = window.__picks.shift();
      if (!name) throw new DOMException('nothing to pick', 'AbortError');
      return (await navigator.storage.getDirectory()).getFileHandle(name, { create });
    };
    window.showOpenFilePicker = async () => [await next(false)];
    window.showSaveFilePicker = async (opts) => {
      window.__suggested.push(opts?.suggestedName ?? null);
      return next(true);
    };
  })()`);
}

/** Files in the origin-private file system (the tests' tsconfig has no DOM types: the code is text). */
const OPFS = 'navigator.storage.getDirectory()';
export const privateFile = {
  write(page: Page, name: string, text: string) {
    return page.evaluate(`(async () => {
      const w = await (await (await ${OPFS}).getFileHandle(${JSON.stringify(name)}, { create: true })).createWritable();
      await w.write(${JSON.stringify(text)});
      await w.close();
    })()`);
  },
  read(page: Page, name: string): Promise<string> {
    return page.evaluate(
      `(async () => (await (await (await ${OPFS}).getFileHandle(${JSON.stringify(name)})).getFile()).text())()`,
    );
  },
  remove(page: Page, name: string) {
    return page.evaluate(`(async () => (await ${OPFS}).removeEntry(${JSON.stringify(name)}))()`);
  },
};
