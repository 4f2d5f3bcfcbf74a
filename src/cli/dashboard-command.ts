/** The dashboard (the Dashboard issue). Until it lands, say so plainly rather than pretend. */
export async function runDashboard(_flags: unknown): Promise<number> {
  process.stderr.write('The dashboard is not built yet: use `eventstream-tui run --headless` for the pipeline.\n');
  return 1;
}
