/**
 * `consume | head -1`: when the reader of stdout goes away, writes fail with EPIPE. That is a request
 * to stop, as SIGPIPE is to kcat: a long-running command settles and commits the chunk in flight and
 * exits 0, a short one exits 0, quietly, never with Node's "Unhandled 'error' event" stack trace.
 */
let stop: () => void = () => process.exit(0);
let closed = false;

/** What a long-running command does when stdout closes (instead of exiting at once). */
export function onStdoutClosed(handler: () => void): void {
  stop = handler;
}

export function watchOutputStreams(stdout: NodeJS.WriteStream = process.stdout, stderr = process.stderr): void {
  stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') {
      stderr.write(`error: cannot write to stdout: ${error.message}\n`);
      process.exit(1);
    }
    if (closed) return;
    closed = true;
    stop();
  });
  // stderr closed too (`2>&1 | head`): nothing more can be said there; stdout decides.
  stderr.on('error', () => undefined);
}

/**
 * Exits once what was written to stdout and stderr has left the process: `process.exit` right after a
 * large write to a pipe can cut its last line (seen: a `dlq list` line cut at 213 characters). A
 * reader that takes nothing for 2 s does not hold the exit.
 */
export function exitAfterOutput(code: number): void {
  const flushed = (stream: NodeJS.WriteStream): Promise<void> =>
    new Promise((resolve) => {
      if (stream.destroyed || !stream.writable) return resolve();
      stream.write('', () => resolve());
    });
  const deadline = setTimeout(() => process.exit(code), 2_000);
  deadline.unref();
  void Promise.all([flushed(process.stdout), flushed(process.stderr)]).then(() => process.exit(code));
}
