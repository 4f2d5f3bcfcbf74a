/**
 * Progress of slow steps: a live line with a spinner and elapsed seconds on a
 * terminal, plain lines otherwise (CI logs, pipes). Also observable, so the
 * dashboard can show the same steps inside itself.
 */
import { inCI } from '../config/environment.js';

export interface ProgressStep {
  done(detail?: string): void;
  fail(detail?: string): void;
}

export interface Progress {
  step(label: string): ProgressStep;
  info(line: string): void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)}s`;
}

export function streamProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  const live = Boolean(stream.isTTY) && !inCI();
  return {
    info: (line) => {
      stream.write(`${line}\n`);
    },
    step: (label) => {
      const started = Date.now();
      let frame = 0;
      let timer: NodeJS.Timeout | undefined;
      if (live) {
        const draw = (): void => {
          stream.write(`\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${label} ${seconds(started)}`);
        };
        draw();
        timer = setInterval(draw, 100);
        timer.unref();
      } else {
        stream.write(`${label} ...\n`);
      }
      const end = (mark: string, detail?: string): void => {
        if (timer) clearInterval(timer);
        const text = `${mark} ${label}${detail ? `: ${detail}` : ''} (${seconds(started)})`;
        stream.write(live ? `\r\x1b[2K${text}\n` : `${text}\n`);
      };
      return { done: (detail) => end('✔', detail), fail: (detail) => end('✘', detail) };
    },
  };
}

/** Records steps as data: for tests and for showing progress inside the dashboard. */
export function recordingProgress(onChange?: (lines: string[]) => void): Progress & { lines: string[] } {
  const lines: string[] = [];
  const push = (line: string): void => {
    lines.push(line);
    onChange?.(lines);
  };
  return {
    lines,
    info: push,
    step: (label) => {
      push(`… ${label}`);
      return {
        done: (detail) => push(`✔ ${label}${detail ? `: ${detail}` : ''}`),
        fail: (detail) => push(`✘ ${label}${detail ? `: ${detail}` : ''}`),
      };
    },
  };
}

export const silentProgress: Progress = {
  info: () => undefined,
  step: () => ({ done: () => undefined, fail: () => undefined }),
};
