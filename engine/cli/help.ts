/** Help texts, kept apart from the commands so `--help` works without loading the engine. */
import { KERNEL_NAMES } from '../core/kernel-profile.ts';
import { MATRIX_DRIVERS } from '../host/matrix.ts';

export const RUN_HELP = `iommu-lab run <file...> [options]

Run scenario scripts and report their expectations.

  --kernel <v6.6|v6.8|v6.16>  kernel profile (default: v6.16, or what the script picks)
  --param <name=value>        a value for lab.params (repeatable)
  --timeout <ms>              stop a script after this long (default: 10000)
  --json                      one JSON object per file instead of the report

Exit status: 0 all passed, 1 an expectation failed, 2 a script error, 3 bad usage.`;

export const MATRIX_HELP = `iommu-lab matrix <file> [options]

Run one scenario once per (driver, kernel) pair, with lab.params.driver set and the kernel
profile fixed, and print a drivers × kernels table.

  --drivers <a,b,…>    drivers (default: ${MATRIX_DRIVERS.join(', ')})
  --kernels <k,…>      kernel profiles (default: ${KERNEL_NAMES.join(', ')})
  --param <name=value> a value for lab.params (repeatable; driver is set by the matrix)
  --timeout <ms>       time limit per cell (default: 10000)
  --jobs <n>           worker threads (default: one per core, 1 = run in this process)
  --json               print the result as one JSON object

Exit status: 0 every available cell passed, 1 a cell failed, 2 a cell errored, 3 bad usage.`;
