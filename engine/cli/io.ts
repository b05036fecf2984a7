/** Where a command writes, so tests can capture it; colour only on a terminal without NO_COLOR. */
import { COLOR, PLAIN, type Style } from './report.ts';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  style: Style;
}

export function processIo(): Io {
  const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
  return {
    out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
    err: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
    style: color ? COLOR : PLAIN,
  };
}
