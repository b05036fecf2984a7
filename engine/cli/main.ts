/**
 * The `iommu-lab` command: `run` and `matrix` (SCRIPT-API.md "Command line"), `--help`, `--version`.
 * Bad usage prints one line to stderr and exits 3.
 *
 * Session files: `iommu-lab session new|check` (session-command.ts), and `run` runs `.iommulab` files.
 */
import { readFileSync } from 'node:fs';
import { TimeoutError } from '../script/guard.ts';
import { processIo, type Io } from './io.ts';
import { claimRejection } from './late-rejections.ts';
import { MATRIX_HELP, RUN_HELP } from './help.ts';
import { EXIT, UsageError } from './usage.ts';

type Command = (argv: string[], io: Io) => number | Promise<number>;

/** Loaded on use, so `--help` and bad usage answer even when the engine cannot load. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./run-command.ts')).runCommand,
  matrix: async () => (await import('./matrix-command.ts')).matrixCommand,
  session: async () => (await import('./session-command.ts')).sessionCommand,
};

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export const HELP = `iommu-lab — IOMMU Lab from the command line

Usage:
  iommu-lab run <file...> [--kernel v6.6|v6.8|v6.16] [--param name=value]… [--json] [--timeout ms]
  iommu-lab run <file>.iommulab [--script name]…
  iommu-lab matrix <file> [--drivers a,b,…] [--kernels v6.6,…] [--json]
  iommu-lab session new <script...> -o <file>.iommulab [--kernel k] [--param name=value]…
  iommu-lab session check <file...>
  iommu-lab <command> --help
  iommu-lab --version

${RUN_HELP.split('\n').slice(2).join('\n')}

${MATRIX_HELP.split('\n\n')[1]}

Session files (.iommulab) keep a lab's scripts, kernel, seed, params, checks switched off and notes:
'session new' makes one from scripts, 'session check' validates one, 'run' runs one
(iommu-lab session --help).`;

export async function main(argv: string[], io: Io): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    io.err(HELP);
    return EXIT.usage;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    io.out(HELP);
    return EXIT.ok;
  }
  if (first === '--version' || first === '-v') {
    io.out(version());
    return EXIT.ok;
  }
  try {
    const command = COMMANDS[first];
    if (!command) {
      throw new UsageError(
        first.startsWith('-')
          ? `unknown option '${first}' (commands: ${Object.keys(COMMANDS).join(', ')})`
          : `unknown command '${first}' (commands: ${Object.keys(COMMANDS).join(', ')})`,
      );
    }
    return await (
      await command()
    )(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`iommu-lab: ${e.message}`);
      return EXIT.usage;
    }
    throw e;
  }
}

// A run still settling takes its script's late rejections (code after an await: RunEndedError);
// a TimeoutError from a callback stopped later is expected, and not the command's business.
process.on('unhandledRejection', (reason) => {
  if (claimRejection(reason) || reason instanceof TimeoutError) return;
  process.stderr.write(
    `iommu-lab: internal error: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}\n`,
  );
  process.exitCode = EXIT.error;
});

const io = processIo();
try {
  process.exitCode = await main(process.argv.slice(2), io);
} catch (e) {
  io.err(`iommu-lab: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exitCode = EXIT.error;
}
