import { expect, test } from '@playwright/test';
import { consoleRows, newTab, openLab, runScript, setScript } from './lab.ts';
import { panel } from './state.ts';

test('a runaway loop is ended by the time limit and the next run works', async ({ page }) => {
  test.setTimeout(90_000);
  await openLab(page);
  await newTab(page);
  await setScript(page, "console.log('spinning');\nwhile (true) {}\n");
  await runScript(page);
  await expect(page.getByTestId('outcome')).not.toHaveText('passed');
  await expect(page.getByTestId('console')).toContainText(/time limit|Timeout/i);
  // The app's limit is fixed: the message says where a script gets more time.
  await expect(page.getByTestId('notice')).toContainText(
    '`iommu-lab run --timeout <ms>` runs longer scripts',
  );
  await expect(page.getByTestId('console')).toContainText('iommu-lab run --timeout <ms>');
  await setScript(page, "console.log('alive again');\n");
  await runScript(page);
  await expect(page.getByTestId('outcome')).toHaveText('passed');
  await expect(consoleRows(page).filter({ hasText: 'alive again' })).toHaveCount(1);
});

test('Shift+F5 stops a running script at once and the engine comes back', async ({ page }) => {
  await openLab(page);
  await newTab(page);
  await setScript(page, 'while (true) {}\n');
  await page.keyboard.press('Control+Enter');
  await expect(page.getByTestId('stop')).toBeEnabled();
  await page.waitForTimeout(500);
  const t0 = Date.now();
  await page.keyboard.press('Shift+F5');
  await expect(page.getByTestId('outcome')).toHaveText('stopped');
  expect(Date.now() - t0).toBeLessThan(5000);
  await expect(page.getByTestId('notice')).toContainText('stopped');
  await expect(page.getByTestId('status')).toContainText('engine ready');
  await setScript(page, "console.log('after stop');\n");
  await runScript(page);
  await expect(page.getByTestId('outcome')).toHaveText('passed');
  await expect(consoleRows(page).filter({ hasText: 'after stop' })).toHaveCount(1);
});

test('Shift+F5 keeps what the run did up to where it was stopped: console, steps and panels', async ({
  page,
}) => {
  test.setTimeout(60_000);
  await openLab(page);
  await newTab(page);
  await setScript(
    page,
    [
      "import { lab, iommu_paging_domain_alloc, iommu_attach_device, iommu_map } from 'iommu-lab';",
      "const dev = lab.add_device('nic0', { iommu: lab.add_iommu('smmu0', 'arm-smmu-v3') });",
      'const d = iommu_paging_domain_alloc(dev) as any;',
      'iommu_attach_device(d, dev);',
      'iommu_map(d, 0x10000, 0x8000_0000, 0x1000, 3);',
      "console.log('mapped, now spinning');",
      'while (true) {}',
    ].join('\n'),
  );
  await page.keyboard.press('Control+Enter');
  await expect(page.getByTestId('stop')).toBeEnabled();
  await page.waitForTimeout(1500); // past a progress report, so the steps made are known
  await page.keyboard.press('Shift+F5');
  await expect(page.getByTestId('outcome')).toHaveText('stopped');
  await expect(consoleRows(page).filter({ hasText: 'mapped, now spinning' })).toHaveCount(1);
  await expect(consoleRows(page).last()).toContainText('stopped at step 5');
  const card = panel(page, 'domains').locator('[data-testid=domain-card][data-domain="2"]');
  await expect(card).toContainText('1 range · 4 KiB');
});

test('after Shift+F5 the run time is how long the run ran, not the rebuild after it', async ({ page }) => {
  await openLab(page);
  await newTab(page);
  await setScript(
    page,
    "import { lab } from 'iommu-lab';\nlab.add_iommu('smmu0', 'arm-smmu-v3');\nwhile (true) {}\n",
  );
  await page.keyboard.press('Control+Enter');
  await expect(page.getByTestId('engine-state')).toHaveText('engine running');
  // The run has lasted at least this long when Stop is pressed; rebuilding its one step takes far less.
  await page.waitForTimeout(2500);
  await page.keyboard.press('Shift+F5');
  await expect(page.getByTestId('outcome')).toHaveText('stopped');
  const time = (await page.getByTestId('time').textContent())!;
  const seconds = /^time (\d+\.\d+) s$/.exec(time);
  expect(seconds, time).not.toBeNull();
  expect(Number(seconds![1])).toBeGreaterThanOrEqual(2.5);
  // The console's result line says the same.
  await expect(consoleRows(page).last()).toContainText(
    `stopped at step 1 · 0 passed, 0 failed · 1 steps · ${seconds![1]} s`,
  );
});

/**
 * Keeps `window.__seen`: the engine state, the step counter, Stop, a state panel's note and the
 * console's, at each change.
 */
const RECORD_STATUS = `
  window.__seen = [];
  const text = (id) => document.querySelector('[data-testid=' + id + ']')?.textContent?.trim() ?? '';
  const read = () => {
    const stop = document.querySelector('[data-testid=stop]').disabled ? 'off' : 'on';
    const notes = [text('state-note'), text('console-busy')];
    const row = [text('engine-state'), text('steps'), 'stop ' + stop, ...notes].join(' | ');
    if (window.__seen.at(-1) !== row) window.__seen.push(row);
  };
  new MutationObserver(read).observe(document.body, {
    subtree: true, childList: true, characterData: true, attributes: true,
  });
`;

/** Steps 1–4 build the machine; from step 5 on, every step maps one more page (a range each). */
const MAPS_FOREVER = [
  "import { lab, iommu_paging_domain_alloc, iommu_attach_device, iommu_map } from 'iommu-lab';",
  "const dev = lab.add_device('nic0', { iommu: lab.add_iommu('smmu0', 'arm-smmu-v3') });",
  'const d = iommu_paging_domain_alloc(dev) as any;',
  'iommu_attach_device(d, dev);',
  'let iova = 0x10000;',
  'while (true) {',
  '  iommu_map(d, iova, 0x8000_0000, 0x1000, 3);',
  '  iova += 0x2000;',
  '}',
].join('\n');

test('after Shift+F5 the window says the lab is being rebuilt to the stop step, then settles there', async ({
  page,
}) => {
  test.setTimeout(90_000);
  await openLab(page);
  await newTab(page);
  await setScript(page, MAPS_FOREVER);
  await page.keyboard.press('Control+Enter');
  await expect(page.getByTestId('engine-state')).toHaveText('engine running');
  await expect(page.getByTestId('stop')).toBeEnabled();
  await page.waitForTimeout(3000); // a few seconds of maps: the rebuild takes a while too

  // What the status bar, the Stop button and a state panel say, each time one of them changes.
  await page.evaluate(RECORD_STATUS);
  await page.keyboard.press('Shift+F5');
  const engine = page.getByTestId('engine-state');
  await expect(engine).toContainText('engine rebuilding the lab to step');
  const stoppedAt = Number(/to step (\d+)/.exec((await engine.textContent())!)![1]);
  expect(stoppedAt).toBeGreaterThan(4);
  await expect(page.getByTestId('outcome')).toHaveText('stopped', { timeout: 60_000 });
  await expect(engine).toHaveText('engine ready');
  await expect(page.getByTestId('steps')).toHaveText(`steps ${stoppedAt}`);
  await expect(page.getByTestId('stop')).toBeDisabled();
  await expect(page.getByTestId('notice')).toContainText(
    `stopped at step ${stoppedAt}: the panels show the lab there`,
  );

  // From Stop on: the lab rebuilt to the stop step (not "running", no engine "starting"), with Stop
  // off, the step counter the rebuild's and the panels saying why; then ready at that step.
  const seen = (await page.evaluate('window.__seen')) as string[];
  const log = seen.join('\n');
  const from = seen.findIndex((r) => r.startsWith('engine rebuilding'));
  const done = seen.findIndex((r, i) => i > from && !r.startsWith('engine rebuilding'));
  expect(from, log).toBeGreaterThanOrEqual(0);
  expect(done, log).toBeGreaterThan(from);
  for (const r of seen.slice(from, done)) {
    expect(r, log).toMatch(
      new RegExp(
        `^engine rebuilding the lab to step ${stoppedAt} \\| rebuilt \\d+ / ${stoppedAt} \\| stop off \\|`,
      ),
    );
    expect(r).toContain(`| Stopped at step ${stoppedAt}: rebuilding the lab up to there`);
    expect(r).toContain(`| stopped at step ${stoppedAt}; rebuilding the lab up to there…`);
  }
  for (const r of seen.slice(done))
    expect(r, log).toMatch(new RegExp(`^engine ready \\| steps ${stoppedAt} \\| stop off`));

  // The panels show the lab at the stop step: one range per map made before it.
  await expect(consoleRows(page).last()).toContainText(`stopped at step ${stoppedAt}`);
  const card = panel(page, 'domains').locator('[data-testid=domain-card][data-domain="2"]');
  const ranges = (stoppedAt - 4).toLocaleString('en-US').replace(/,/g, '\u2009');
  await expect(card).toContainText(`${ranges} ranges`);
  await expect(panel(page, 'domains').getByTestId('panel-step')).toHaveText(
    `step ${stoppedAt} / ${stoppedAt}`,
  );
});

test('F5 and Stop while the lab is rebuilt after Stop say why nothing starts or stops', async ({ page }) => {
  test.setTimeout(90_000);
  await openLab(page);
  await newTab(page);
  await setScript(page, MAPS_FOREVER);
  await page.keyboard.press('Control+Enter');
  await expect(page.getByTestId('stop')).toBeEnabled();
  await page.waitForTimeout(4000); // enough maps that the rebuild takes a while
  await page.keyboard.press('Shift+F5');
  const engine = page.getByTestId('engine-state');
  await expect(engine).toContainText('engine rebuilding the lab to step');
  const stoppedAt = /to step (\d+)/.exec((await engine.textContent())!)![1];
  await page.keyboard.press('F5');
  await expect(page.getByTestId('notice')).toContainText(
    `the lab is still being rebuilt to step ${stoppedAt} after Stop; run again when it is done`,
  );
  await page.keyboard.press('Shift+F5');
  await expect(page.getByTestId('notice')).toContainText(
    `already stopped: the lab is being rebuilt to step ${stoppedAt}`,
  );
  // Run and Stop stay off meanwhile; then the lab is at the stop step, ready to run again.
  await expect(page.getByTestId('run')).toBeDisabled();
  await expect(page.getByTestId('stop')).toBeDisabled();
  await expect(page.getByTestId('outcome')).toHaveText('stopped', { timeout: 60_000 });
  await expect(page.getByTestId('steps')).toHaveText(`steps ${stoppedAt}`);
  await expect(page.getByTestId('run')).toBeEnabled();
});
