#!/usr/bin/env node
// The command line runs the compiled code; `npm run build` (or `npm start`) produces it.
import '../dist/cli/main.js';
