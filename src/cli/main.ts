/**
 * The command line's entry. `import` runs in a Node of its own, started with the V8 flags it
 * wants (relaunch.ts); that choice is made here, before the rest of the command line (the whole
 * service: 0.4 s of module loading) is loaded by a process that would only wait for its child.
 */
import { IMPORT_NODE_FLAGS, relaunchWith } from './relaunch.js';

const exitCode = process.argv[2] === 'import' ? await relaunchWith(IMPORT_NODE_FLAGS) : undefined;
if (exitCode === undefined) await import('./program.js');
else process.exitCode = exitCode;
