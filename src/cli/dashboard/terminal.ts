/**
 * The alternate screen, entered once and left on every exit path: quit,
 * signals, and crashes (uncaught errors are printed after the screen is back).
 */
const ENTER = '\u001b[?1049h\u001b[?25l\u001b[H';
const LEAVE = '\u001b[?25h\u001b[?1049l';

let active = false;

export function enterAlternateScreen(stdout: NodeJS.WriteStream = process.stdout): void {
  if (active || !stdout.isTTY) return;
  active = true;
  stdout.write(ENTER);
  process.once('exit', () => leaveAlternateScreen(stdout));
}

export function leaveAlternateScreen(stdout: NodeJS.WriteStream = process.stdout): void {
  if (!active) return;
  active = false;
  try {
    stdout.write(LEAVE);
  } catch {
    // the terminal is gone; nothing to restore
  }
}

/** A crash restores the terminal first, then says what happened, where the user can read it. */
export function restoreOnCrash(logFile: string, before: () => void = () => undefined): void {
  const crash = (error: unknown): void => {
    try {
      before();
    } catch {
      // keep going: the terminal matters more
    }
    leaveAlternateScreen();
    process.stderr.write(
      `eventstream-tui crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\nLogs: ${logFile}\n`,
    );
    process.exit(1);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
}
