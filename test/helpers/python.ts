/**
 * Debian's Python (python3-numpy, python3-h5py, python3-torch) as an
 * independent second implementation in some tests; rxkeras itself never
 * needs Python. A test that uses it skips, saying why, where it is absent
 * (a plain clone on a machine without those packages); `.ci/run` installs
 * them, so CI runs every test. `RXKERAS_TEST_PYTHON` names another
 * interpreter (a missing path checks the skips).
 */
import { spawnSync } from 'node:child_process';

export const PYTHON = process.env.RXKERAS_TEST_PYTHON ?? '/usr/bin/python3';

export type PythonModule = 'numpy' | 'h5py' | 'torch';

const DEBIAN_PACKAGE: Record<PythonModule, string> = { numpy: 'python3-numpy', h5py: 'python3-h5py', torch: 'python3-torch' };
const found = new Map<string, boolean>();

/**
 * `false` when `PYTHON` runs and imports every module, else the reason to skip (for
 * `test(name, { skip: needsPython('numpy') }, ...)`). Checked once per set of modules.
 */
export function needsPython(...modules: PythonModule[]): string | false {
  const key = [...modules].sort().join(',');
  const probe = modules.length > 0 ? `import ${modules.join(', ')}` : 'pass';
  if (!found.has(key)) found.set(key, spawnSync(PYTHON, ['-c', probe], { stdio: 'ignore', timeout: 60_000 }).status === 0);
  const packages = ['python3', ...modules.map((m) => DEBIAN_PACKAGE[m])].join(', ');
  return found.get(key) ? false : `needs ${PYTHON} (${packages}): a second implementation; .ci/run installs it`;
}
