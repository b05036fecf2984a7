import { expect, test } from '@playwright/test';
import { openLab } from './lab.ts';

test('the page is served with a strict policy and cross-origin isolation', async ({ page, request }) => {
  const res = await request.get('/');
  const csp = res.headers()['content-security-policy'] ?? '';
  expect(csp).toContain("script-src 'self'");
  expect(csp).not.toContain('unsafe-eval');
  expect(csp).toContain("object-src 'none'");
  expect(res.headers()['cross-origin-opener-policy']).toBe('same-origin');
  expect(res.headers()['cross-origin-embedder-policy']).toBe('require-corp');
  await openLab(page);
  expect(await page.evaluate('crossOriginIsolated')).toBe(true);
  // An injected inline script does not run (no 'unsafe-inline' for scripts).
  const ran = await page.evaluate(`(async () => {
    const el = document.createElement('script');
    el.textContent = 'window.__injected = true';
    document.head.appendChild(el);
    await new Promise((r) => setTimeout(r, 100));
    return window.__injected === true;
  })()`);
  expect(ran).toBe(false);
});
