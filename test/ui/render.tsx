/**
 * ink-testing-library with a terminal of a chosen size (its fake stdout is
 * fixed at 100 columns), plus waiting helpers: tests wait for what they
 * assert, never for a fixed time.
 */
import { render } from 'ink-testing-library';
import type { ReactElement } from 'react';
import stripAnsi from 'strip-ansi';

export function renderAt(tree: ReactElement, columns: number, rows: number) {
  const r = render(tree);
  Object.defineProperty(r.stdout, 'columns', { value: columns, configurable: true, writable: true });
  Object.defineProperty(r.stdout, 'rows', { value: rows, configurable: true, writable: true });
  r.stdout.emit('resize');
  r.rerender(tree);
  return {
    ...r,
    frame: (): string => stripAnsi(r.lastFrame() ?? ''),
    resize(cols: number, rws: number): void {
      Object.defineProperty(r.stdout, 'columns', { value: cols, configurable: true, writable: true });
      Object.defineProperty(r.stdout, 'rows', { value: rws, configurable: true, writable: true });
      r.stdout.emit('resize');
    },
  };
}

export async function waitForFrame(
  frame: () => string,
  predicate: (text: string) => boolean,
  what: string,
  timeoutMs = 3000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = frame();
    if (predicate(text)) return text;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last frame:\n${text}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Lets Ink's effects (the input handler) attach before keys are written. */
export const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 20));
