import { main, writeFailure } from './sim.ts';

// A closed pipe (`| head`) ends the output quietly, as other command-line tools do; a full disk
// or a closed terminal is one line on stderr and its own exit code, not a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  const { code, message } = writeFailure(e);
  if (message !== null) process.stderr.write(`${message}\n`);
  process.exit(code);
});

process.exitCode = main(
  process.argv.slice(2),
  (s) => process.stdout.write(s + '\n'),
  (s) => process.stderr.write(s + '\n'),
);
