import { expect, test } from '@playwright/test';
import { consoleRows, newTab, openLab, runScript, setScript } from './lab.ts';
import { showPanel } from './panels.ts';

test('Ctrl+Enter runs the active tab and the console links to the line', async ({ page }) => {
  await openLab(page);
  await newTab(page);
  await setScript(
    page,
    [
      "import { expect } from 'iommu-lab';",
      '',
      "console.log('hello from the lab', 0x1000);",
      'expect(1 + 1).toBe(2);',
      '',
    ].join('\n'),
  );
  await runScript(page);
  await expect(page.getByTestId('outcome')).toHaveText('passed');
  const hello = consoleRows(page).filter({ hasText: 'hello from the lab' });
  await expect(hello).toHaveCount(1);
  await expect(consoleRows(page).filter({ hasText: /toBe/ })).toHaveCount(1);
  await expect(page.getByTestId('steps')).not.toHaveText('steps —');
  await expect(page.getByTestId('time')).not.toHaveText('time —');
  // The row's link moves the editor's cursor to the console.log line.
  await page.locator('[data-testid=tab]').first().click();
  await hello.locator('.loc').click();
  await expect(page.getByTestId('status')).toContainText('Ln 3,');
});

test("the engine's worker gives the sandbox's web helpers: text into simulated memory and back", async ({
  page,
}) => {
  await openLab(page);
  await newTab(page);
  await setScript(
    page,
    [
      "import { lab, expect } from 'iommu-lab';",
      'const pa = lab.mem.alloc(4096);',
      "lab.mem.write(pa, new TextEncoder().encode('héllo'));",
      "console.log('read back', new TextDecoder().decode(lab.mem.read(pa, 6)), btoa('ping'));",
      'expect(structuredClone({ a: 1 })).toEqual({ a: 1 });',
      '',
    ].join('\n'),
  );
  await runScript(page);
  await expect(page.getByTestId('outcome')).toHaveText('passed');
  await expect(consoleRows(page).filter({ hasText: 'read back héllo cGluZw==' })).toHaveCount(1);
});

test('F5 runs too, and a failed expectation is marked at its line', async ({ page }) => {
  await openLab(page);
  await newTab(page);
  await setScript(
    page,
    ["import { expect } from 'iommu-lab';", '', 'const pages = 3;', 'expect(pages).toBe(4);', ''].join('\n'),
  );
  await page.keyboard.press('F5');
  await expect(page.getByTestId('outcome')).toHaveText('failed', { timeout: 30_000 });
  const fail = consoleRows(page).filter({ hasText: /toBe/ }).first();
  await expect(fail.locator('.loc')).toContainText(':4');
  await expect(page.locator('.monaco-editor .squiggly-error').first()).toBeVisible();
  // Listed once, with its matcher: not again as the error that stopped the script.
  await expect(consoleRows(page).filter({ hasText: 'but got 3' })).toHaveCount(1);
});

test("the console's first line names the kernel the run used, also when the script picked it", async ({
  page,
}) => {
  await openLab(page);
  await newTab(page);
  await setScript(page, ["import { lab } from 'iommu-lab';", "lab.kernel('v6.6');", ''].join('\n'));
  await runScript(page);
  await expect(page.getByTestId('outcome')).toHaveText('passed');
  await expect(consoleRows(page).first()).toContainText('kernel v6.6 (lab.kernel in the script)');
});

test('the starter scenario maps a page and the device reads it through the SMMU', async ({ page }) => {
  await openLab(page);
  await page.getByTestId('kernel').selectOption('v6.16');
  await runScript(page);
  await expect(page.getByTestId('outcome')).toHaveText('passed');
  await expect(
    consoleRows(page).filter({ hasText: /dma_read #1: iova 0x10000 -> pa 0x[0-9a-f]+ \(miss\)/ }),
  ).toHaveCount(1);
  await expect(consoleRows(page).filter({ hasText: /dma_read #2: .*\(hit\)/ })).toHaveCount(1);
});

test('F10 and Shift+F10 move through the recorded steps of the last run', async ({ page }) => {
  await openLab(page);
  await runScript(page);
  await expect(page.getByTestId('outcome')).toHaveText('passed');
  const steps = page.getByTestId('steps');
  const total = Number((await steps.textContent())?.match(/steps (\d+)/)?.[1]);
  expect(total).toBeGreaterThan(2);
  await page.keyboard.press('Shift+F10');
  await expect(steps).toHaveText(`step ${total - 1} / ${total}`);
  await page.keyboard.press('Shift+F10');
  await expect(steps).toHaveText(`step ${total - 2} / ${total}`);
  await page.getByTestId('step').click();
  await expect(steps).toHaveText(`step ${total - 1} / ${total}`);
  await page.keyboard.press('F10');
  await expect(steps).toHaveText(`steps ${total}`);
  await expect(page.getByTestId('step')).toBeDisabled();
});

test('stepping back dims the console lines printed after the step shown, as the trace dims its rows', async ({
  page,
}) => {
  await openLab(page);
  await setScript(
    page,
    [
      "import { lab } from 'iommu-lab';",
      "console.log('before any step');",
      "const smmu = lab.add_iommu('smmu0', 'arm-smmu-v3');",
      "console.log('after step 1');",
      "lab.add_device('nic0', { iommu: smmu });",
      "console.log('after step 2');",
    ].join('\n'),
  );
  await runScript(page);
  await expect(page.getByTestId('outcome')).toHaveText('passed');
  const row = (text: string) => page.getByTestId('console').locator('.row').filter({ hasText: text });
  await expect(row('after step 2')).not.toHaveClass(/future/);
  await page.keyboard.press('Shift+F10');
  await expect(page.getByTestId('steps')).toHaveText('step 1 / 2');
  await expect(row('before any step')).not.toHaveClass(/future/);
  await expect(row('after step 1')).not.toHaveClass(/future/);
  await expect(row('after step 2')).toHaveClass(/future/);
  await page.keyboard.press('F10');
  await expect(row('after step 2')).not.toHaveClass(/future/);
});

/**
 * Keeps `window.__rowWrites`: what the console draws, as rows added to it plus texts and attributes
 * written inside it. A row is drawn about once; redrawing every shown row per streamed batch was
 * what froze the window on a long printing loop.
 */
const COUNT_ROW_WRITES = `
  window.__rowWrites = 0;
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.type !== 'childList') window.__rowWrites++;
      else for (const n of r.addedNodes)
        if (n.nodeType === 1) window.__rowWrites += (n.matches('.row') ? 1 : 0) + n.querySelectorAll('.row').length;
    }
  }).observe(document.querySelector('[data-testid=console]'), {
    subtree: true, childList: true, characterData: true, attributes: true,
  });
`;

test('a script printing 9000 lines: the console draws each once, ends at the last, and the window answers', async ({
  page,
}) => {
  test.setTimeout(120_000);
  await openLab(page);
  await newTab(page);
  await setScript(
    page,
    [
      "import { lab } from 'iommu-lab';",
      "lab.add_iommu('smmu0', 'arm-smmu-v3');",
      "for (let i = 0; i < 9000; i++) console.log('line', i);",
      "console.log('the last line wraps:', 'word '.repeat(60));",
    ].join('\n'),
  );
  await page.evaluate(COUNT_ROW_WRITES);
  await runScript(page);
  await expect(page.getByTestId('outcome')).toHaveText('passed');

  // The last lines printed and the result line are in view, at the bottom of the console.
  const row = (text: string) =>
    consoleRows(page).filter({ has: page.locator('.text').getByText(text, { exact: true }) });
  await expect(row('line 8999')).toBeInViewport();
  await expect(consoleRows(page).filter({ hasText: 'the last line wraps' })).toBeInViewport({ ratio: 1 });
  await expect(consoleRows(page).last()).toContainText('passed · 0 passed, 0 failed');
  await expect(consoleRows(page).last()).toBeInViewport();
  // Only the last lines are drawn, and the console says how many it leaves out: none is lost.
  const notShown = consoleRows(page).filter({ hasText: /earlier lines not shown/ });
  const left = Number(/(\d+) earlier/.exec((await notShown.textContent())!)![1]);
  expect(left + (await consoleRows(page).count()) - 1).toBe(9001 + 2);
  await expect(row(`line ${left - 1}`)).toHaveCount(1);
  await expect(row(`line ${left - 2}`)).toHaveCount(0);

  // Each row was drawn about once; redrawing the 5000 shown per batch of 100 would be 200 000.
  const writes = (await page.evaluate('window.__rowWrites')) as number;
  expect(writes).toBeLessThan(2 * 9000);

  // The window takes the next key and click: a step back dims the lines printed after the last
  // step, and another panel comes to the front.
  await page.keyboard.press('Shift+F10');
  await expect(page.getByTestId('steps')).toHaveText(/^step \d+ \/ \d+$/);
  await expect(row('line 8999')).toHaveClass(/future/);
  await showPanel(page, 'trace');
});

test('a promise the script rejected and never handled is the run error, at its line', async ({ page }) => {
  await openLab(page);
  await newTab(page);
  await setScript(
    page,
    ["import { lab } from 'iommu-lab';", 'lab.kernel();', "Promise.reject(new Error('late'));", ''].join(
      '\n',
    ),
  );
  await runScript(page);
  await expect(page.getByTestId('outcome')).toHaveText('error');
  await expect(consoleRows(page).filter({ hasText: 'in a promise nobody handled: late' })).toHaveCount(1);
});

test('an expectation after an await is the run error, at its line, never a silent pass', async ({ page }) => {
  await openLab(page);
  await newTab(page);
  await setScript(
    page,
    [
      "import { expect } from 'iommu-lab';",
      'async function later() {',
      '  await null;',
      '  expect(1).toBe(2);',
      '}',
      'later();',
      '',
    ].join('\n'),
  );
  await runScript(page);
  await expect(page.getByTestId('outcome')).toHaveText('error');
  const row = consoleRows(page).filter({ hasText: 'after the run had ended' });
  await expect(row).toHaveCount(1);
  await expect(row.locator('.loc')).toContainText(/:4/);
});
