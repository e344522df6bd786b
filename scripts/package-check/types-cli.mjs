// `node types-cli.mjs <projectDir> <setting> <request.json>`: one type-check in its own process,
// so the nodenext and bundler programs (and the smoke tests) run side by side. The request names
// the files and, optionally, the entry file whose exports must not be `any`. Prints one JSON line.
import { readFileSync } from 'node:fs';
import { anyTypedExports, typeErrors } from './types.mjs';

const [projectDir, setting, requestFile] = process.argv.slice(2);
const { files, anyCheckFile } = JSON.parse(readFileSync(requestFile, 'utf8'));
const { program, errors } = typeErrors(projectDir, files, setting);
const anyTyped = anyCheckFile === undefined ? [] : anyTypedExports(program, anyCheckFile);
process.stdout.write(`${JSON.stringify({ errors, anyTyped })}\n`);
