/**
 * The dashboard needs the Ink patch (patches/ink+6.8.0.patch, applied by the package's postinstall):
 * without it Ink keeps every distinct text it ever measured and memory grows for as long as the
 * dashboard runs. An install that skipped install scripts (`--ignore-scripts`, or an npm that asks for
 * them to be allowed) has no patch: say so and how to fix it, instead of growing in silence.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MARKER = 'eventstream-tui patch';
const PATCHED_FILES = ['measure-text.js', 'wrap-text.js', 'output.js'];

/** The message to show when the Ink in use lacks the patch; undefined when it is patched. */
export function inkPatchProblem(inkEntry: string = fileURLToPath(import.meta.resolve('ink'))): string | undefined {
  const build = path.dirname(inkEntry);
  const unpatched = PATCHED_FILES.filter((f) => {
    try {
      return !readFileSync(path.join(build, f), 'utf8').includes(MARKER);
    } catch {
      return true;
    }
  });
  if (unpatched.length === 0) return undefined;
  const root = path.resolve(build, '..', '..', '..');
  return (
    `Ink at ${path.dirname(build)} is not patched (${unpatched.join(', ')}): the install skipped its install scripts, ` +
    `so the dashboard's memory grows while it runs.\n  Fix: run \`npx patch-package\` in ${root}, ` +
    'or reinstall allowing its scripts (npm install -g --allow-scripts=eventstream-tui eventstream-tui).'
  );
}
