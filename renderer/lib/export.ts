/**
 * Export a panel as it looks: SVG by serialising its DOM into a <foreignObject> together with the
 * style rules that apply to it and the theme's colours, PNG by drawing that SVG onto a canvas.
 * Scroll positions are kept (what the panel shows is what the file shows).
 */

/** Save `blob` as a file: the browser's download, the desktop app's save dialog. */
export function downloadBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export async function exportPanel(el: HTMLElement, name: string, kind: 'svg' | 'png'): Promise<void> {
  const svg = panelToSvg(el);
  if (kind === 'svg') {
    downloadBlob(new Blob([svg.text], { type: 'image/svg+xml' }), `iommu-lab-${name}.svg`);
  } else {
    downloadBlob(await svgToPng(svg.text, svg.width, svg.height), `iommu-lab-${name}.png`);
  }
}

export interface SvgImage {
  text: string;
  width: number;
  height: number;
}

/** The element as a standalone SVG document. */
export function panelToSvg(el: HTMLElement): SvgImage {
  const box = el.getBoundingClientRect();
  const width = Math.max(1, Math.ceil(box.width));
  const height = Math.max(1, Math.ceil(box.height));
  const clone = el.cloneNode(true) as HTMLElement;
  carryState(el, clone);
  clone.querySelectorAll('[data-export-skip]').forEach((n) => n.remove());

  const wrapper = document.createElement('div');
  wrapper.setAttribute('xmlns', 'http://www.w3.org/1999/xhtml');
  const cs = getComputedStyle(el);
  const rootStyle = getComputedStyle(document.documentElement);
  const vars = themeVariables()
    .map((v) => `${v}:${rootStyle.getPropertyValue(v).trim()}`)
    .join(';');
  wrapper.setAttribute(
    'style',
    `${vars};width:${width}px;height:${height}px;overflow:hidden;display:flex;flex-direction:column;` +
      `font-family:${cs.fontFamily};font-size:${cs.fontSize};color:${cs.color};` +
      `background:${opaqueBackground(el)};color-scheme:${rootStyle.colorScheme || 'normal'}`,
  );
  const style = document.createElement('style');
  style.textContent = collectCss(el);
  wrapper.append(style, clone);
  clone.style.width = `${width}px`;
  clone.style.height = `${height}px`;

  const xhtml = new XMLSerializer().serializeToString(wrapper);
  const text =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<foreignObject x="0" y="0" width="${width}" height="${height}">${xhtml}</foreignObject></svg>`;
  return { text, width, height };
}

export async function svgToPng(svg: string, width: number, height: number, scale = 2): Promise<Blob> {
  const img = new Image();
  img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round(height * scale);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2D canvas');
  ctx.scale(scale, scale);
  ctx.drawImage(img, 0, 0, width, height);
  return new Promise((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('the canvas gave no PNG'))), 'image/png'),
  );
}

/** Scroll offsets and form values do not survive cloneNode: copy them onto the clone. */
function carryState(from: Element, to: Element): void {
  if (from instanceof HTMLElement && to instanceof HTMLElement) {
    if (from.scrollTop || from.scrollLeft) {
      to.style.overflow = 'hidden';
      Array.from(to.children).forEach((child, i) => {
        if (!(child instanceof HTMLElement) && !(child instanceof SVGElement)) return;
        // A sticky child already sits where the view is; `translate` composes with any transform.
        const orig = from.children[i];
        if (orig && getComputedStyle(orig).position === 'sticky') return;
        child.style.translate = `${-from.scrollLeft}px ${-from.scrollTop}px`;
      });
    }
    if (from instanceof HTMLInputElement && to instanceof HTMLInputElement) {
      to.setAttribute('value', from.value);
      if (from.checked) to.setAttribute('checked', '');
    }
    if (from instanceof HTMLSelectElement && to instanceof HTMLSelectElement) {
      Array.from(to.options).forEach((o, i) => {
        if (i === from.selectedIndex) o.setAttribute('selected', '');
        else o.removeAttribute('selected');
      });
    }
  }
  const a = from.children;
  const b = to.children;
  for (let i = 0; i < a.length && i < b.length; i++) carryState(a[i]!, b[i]!);
}

/** The custom properties (theme colours, fonts) the document root defines. */
function themeVariables(): string[] {
  const names = new Set<string>();
  forEachRule((rule) => {
    if (!(rule instanceof CSSStyleRule)) return;
    if (!safeMatches(document.documentElement, rule.selectorText)) return;
    for (let i = 0; i < rule.style.length; i++) {
      const p = rule.style.item(i);
      if (p.startsWith('--')) names.add(p);
    }
  });
  return [...names];
}

/** The style rules that can apply inside `el` (so the SVG stays small and self-contained). */
function collectCss(el: HTMLElement): string {
  const out: string[] = [];
  const visit = (rule: CSSRule): void => {
    if (rule instanceof CSSStyleRule) {
      if (rule.selectorText.includes(':root')) return;
      if (appliesWithin(el, rule.selectorText)) out.push(rule.cssText);
    } else if (rule instanceof CSSMediaRule) {
      if (!window.matchMedia(rule.conditionText).matches) return;
      for (const r of Array.from(rule.cssRules)) visit(r);
    }
  };
  forEachRule(visit, false);
  return out.join('\n');
}

function appliesWithin(el: HTMLElement, selector: string): boolean {
  // Pseudo-elements and states cannot be queried; test the selector without them.
  const plain = selector.replace(/::?[a-z-]+(\([^)]*\))?/g, (m) =>
    /^:(not|is|where|has)\(/.test(m) ? m : '',
  );
  try {
    return el.matches(plain) || el.querySelector(plain) !== null;
  } catch {
    return true;
  }
}

function safeMatches(el: Element, selector: string): boolean {
  try {
    return el.matches(selector);
  } catch {
    return false;
  }
}

function forEachRule(fn: (rule: CSSRule) => void, recurse = true): void {
  for (const sheet of Array.from(document.styleSheets)) {
    let rules: CSSRuleList;
    try {
      rules = sheet.cssRules;
    } catch {
      continue;
    }
    for (const rule of Array.from(rules)) {
      fn(rule);
      if (recurse && rule instanceof CSSMediaRule && window.matchMedia(rule.conditionText).matches)
        for (const r of Array.from(rule.cssRules)) fn(r);
    }
  }
}

/** The first non-transparent background from `el` up, so the image is not see-through. */
function opaqueBackground(el: Element | null): string {
  for (let e = el; e; e = e.parentElement) {
    const bg = getComputedStyle(e).backgroundColor;
    if (bg && bg !== 'transparent' && !/rgba\(.*,\s*0\)$/.test(bg)) return bg;
  }
  return '#ffffff';
}
