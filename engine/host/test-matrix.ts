/**
 * For tests: one script's matrix through a real EngineHost, the path the app's Matrix panel takes,
 * with the cells run in turn in this thread.
 */
import { runScript } from '../script/run-script.ts';
import { EngineHost } from './host.ts';
import type { EngineMessage, MatrixResult } from './protocol.ts';

/** Messages are copied as a port copies them; the engine's lib has no types for structuredClone. */
const copy = (globalThis as unknown as { structuredClone<T>(v: T): T }).structuredClone;

export async function matrixThroughHost(
  source: string,
  drivers: string[],
  kernels: string[],
): Promise<MatrixResult> {
  const out: EngineMessage[] = [];
  let deliver: (m: unknown) => void = () => {};
  const host = new EngineHost(
    { send: (m) => out.push(copy(m)), onMessage: (cb) => (deliver = cb) },
    { run: runScript },
  );
  host.start();
  deliver({ type: 'matrix', id: 1, files: [{ name: 's.ts', source }], entry: 's.ts', drivers, kernels });
  await host.idle();
  const res = out.find((m) => m.type === 'response');
  if (!res?.ok) throw new Error(`matrix failed: ${JSON.stringify(res)}`);
  return res.result as MatrixResult;
}
