/**
 * The app's log sink. Nothing here writes to the terminal unless asked to:
 * under the dashboard the terminal belongs to Ink, and in headless mode stdout
 * carries only JSON lines, so logs go to a file or to stderr.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { pino, type Logger } from 'pino';

export type { Logger };

export type LogDestination = { kind: 'file'; path: string } | { kind: 'stderr' } | { kind: 'silent' };

/** `level`: the caller's (LOG_LEVEL is read in src/config/environment.ts: `logLevel`). */
export function createLogger(destination: LogDestination, level = 'info'): Logger {
  switch (destination.kind) {
    case 'silent':
      return pino({ level: 'silent' });
    case 'stderr':
      return pino({ level }, pino.destination({ fd: 2, sync: true }));
    case 'file':
      mkdirSync(path.dirname(destination.path), { recursive: true });
      return pino({ level }, pino.destination({ dest: destination.path, sync: false, mkdir: true }));
  }
}
