/** Help texts, kept apart from the commands so `--help` works without loading the engine. */
import { KERNEL_NAMES } from '../core/kernel-profile.ts';
import { MATRIX_DRIVERS } from '../host/matrix.ts';

export const RUN_HELP = `iommu-lab run <file...> [options]

Run scenario scripts and report their expectations. A session file (.iommulab) runs each of its
scripts, with the session's kernel, seed, params and checks switched off; its scripts import each
other as './name', from the importing file's folder ('./y' in lib/x.ts is lib/y.ts). Every run can
also import the built-in scenarios' helpers as './lib/<name>' (scenarios/lib) where no file of that
name is its own, as in the app. A damaged session file is refused (exit 3) before anything runs.

  --kernel <v6.6|v6.8|v6.16>  kernel profile (default: v6.16, the session's, or what the script picks)
  --param <name=value>        a value for lab.params (repeatable; wins over a session's)
  --seed <n>                  lab.random()'s seed before the script runs (default: 0, or the session's)
  --script <name>             with a session: run only this tab (repeatable)
  --disable-check <id>        switch a check off (repeatable; with a session, besides its own)
  --timeout <ms>              stop a script after this long (default: 10000)
  --json                      one JSON object per file instead of the report: {file, status, kernel,
                              expectations, checks, error?: {name?, message, line, column, file?},
                              steps}; error.name KernelVersionError: not in this kernel

Exit status: 0 all passed, 1 an expectation failed, 2 a script error, 3 bad usage.`;

export const MATRIX_HELP = `iommu-lab matrix <file> [options]

Run one scenario once per (driver, kernel) pair, with lab.params.driver set and the kernel
profile fixed, and print a drivers × kernels table, then the first API call whose results are not
the same in every cell and each cell's own result there (--json: firstDifference in each cell).
A session file (.iommulab) sweeps its active tab, with the session's seed, params and checks
switched off, as the app's Matrix panel does; the matrix sets the kernel and the driver.

A cell marked ⚠n had n checks fire; the lines under the table name them (--json: checks, each
{id, count}). A cell marked ? passed or failed without an IOMMU of its row's driver: the script
added another driver's, or none, so it ignores lab.params.driver (--json: driversUsed, warning).
Such a pass is not counted as one: nothing was learnt about that driver. A cell marked – n/a did
not run: its kernel lacks the driver, or a function the script called; a line under the table
gives the reason for each such group of cells (--json: detail), and the last line how many ran.

  --drivers <a,b,…>    drivers (default: ${MATRIX_DRIVERS.join(', ')})
  --kernels <k,…>      kernel profiles (default: ${KERNEL_NAMES.join(', ')})
  --param <name=value> a value for lab.params (repeatable; wins over a session's; the matrix sets driver)
  --seed <n>           lab.random()'s seed in every cell (default: 0, or the session's)
  --script <name>      with a session: sweep this tab instead of the active one
  --timeout <ms>       time limit per cell (default: 10000)
  --jobs <n>           worker threads (default: one per core, 1 = run in this process)
  --disable-check <id> switch a check off in every cell (repeatable; with a session, besides its own)
  --json               print the result as one JSON object

Exit status: 0 every available cell passed with its driver (--json: allPassed is true only then),
1 a cell failed, passed without its driver (?) or none could run, 2 a cell errored, 3 bad usage.`;

export const SESSION_NEW_HELP = `iommu-lab session new <script...> -o <file>.iommulab [options]

Make a session file from scenario scripts: one tab per script, named after the file, plus the
'./name' files they import.

  -o, --output <file>         the session file to write (must end in .iommulab)
  --kernel <${KERNEL_NAMES.join('|')}>  kernel profile (default: v6.16)
  --param <name=value>        a value for lab.params (repeatable)
  --seed <n>                  lab.seed before the script runs (default: 0)
  --disable-check <id>        switch a check off (repeatable)
  --notes <text>              notes kept with the session
  --active <name>             the tab that runs in the app (default: the first)
  -f, --force                 replace the output file if it exists

Exit status: 0 written, 3 bad usage or an unreadable script.`;

export const SESSION_CHECK_HELP = `iommu-lab session check <file...>

Check session files: JSON, format version, every field. Prints what each holds, or the reason it
cannot be loaded (the field at fault). Nothing in the file runs.

Exit status: 0 every file is valid, 3 one is not.`;

export const SESSION_HELP = `iommu-lab session <new|check> …

  iommu-lab session new <script...> -o <file>.iommulab [--kernel k] [--param name=value]…
  iommu-lab session check <file...>

Run one with: iommu-lab run <file>.iommulab`;
