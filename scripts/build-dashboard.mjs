// Placeholder until the dashboard lands: the dashboard issue replaces this with the esbuild build.
process.stdout.write('dashboard: nothing to build yet\n');
