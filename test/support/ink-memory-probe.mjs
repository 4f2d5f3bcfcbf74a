// Renders 12,000 frames of new text through the Ink of an installed eventstream-tui and prints the
// live heap's growth in MB (run with --expose-gc). Argument: the installed package's directory.
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import { setImmediate } from 'node:timers';
import { pathToFileURL } from 'node:url';

const pkg = process.argv[2];
const require = createRequire(`${pkg}/package.json`);
const ink = await import(pathToFileURL(require.resolve('ink')).href);
const React = await import(pathToFileURL(require.resolve('react')).href);
const h = React.createElement;

class LastFrame extends Writable {
  columns = 100;
  rows = 30;
  last = '';
  _write(chunk, _encoding, done) {
    this.last = chunk.toString();
    done();
  }
}
const row = (n) =>
  h(
    ink.Box,
    { flexDirection: 'column', width: 60 },
    h(
      ink.Text,
      null,
      `12:00:${String(n % 60).padStart(2, '0')} item_purchased user-${n % 24} 1@${n} amount=${n}.50 USD`,
    ),
    h(ink.Text, { wrap: 'truncate' }, `a line too long for its box, so Ink truncates it: offset ${n} `.repeat(3)),
  );
const heap = () => {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};
const turn = () => new Promise((r) => setImmediate(r));
const stdout = new LastFrame();
const r = ink.render(row(0), { stdout, debug: true, patchConsole: false, exitOnCtrlC: false });
for (let n = 1; n <= 2_500; n++) {
  r.rerender(row(n));
  if (n % 50 === 0) await turn();
}
await turn();
const before = heap();
for (let n = 2_501; n <= 14_500; n++) {
  r.rerender(row(n));
  if (n % 50 === 0) await turn();
}
await turn();
const after = heap();
const drawn = stdout.last.includes('1@14500');
r.unmount();
process.stdout.write(`${JSON.stringify({ growthMb: after - before, lastFrameDrawn: drawn })}\n`);
