// Tests that need a tool from outside npm (Debian's chromium, python3-torch): where it is missing they
// are skipped, saying which and why, so `npm test` passes on a bare machine; under CI (CI set, as
// .ci/run's environment does, which installs the tools first) a missing tool fails them instead, so
// nothing skips there unnoticed.

/** True when the tests of `what` should be skipped here; prints the reason once. */
export function skipWithout(what: string, present: boolean, install: string): boolean {
  if (present) return false;
  const why = `${what} needs ${install.replace(/^apt-get install /, 'Debian\'s ')}, which is missing (install it with: ${install})`;
  if (process.env.CI) throw new Error(`${why}; CI must not skip it`);
  console.log(`skipped: ${why}`);
  return true;
}
