// Setup and build progress goes to stderr, prefixed, so app output stays clean.
export function step(msg: string): void {
  process.stderr.write(`[qcam] ${msg}\n`);
}
export class BuildError extends Error {}
