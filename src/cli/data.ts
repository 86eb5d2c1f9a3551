import type { Command } from 'commander';

// Placeholder: bulk import and export are registered here.
export function registerDataCommands(_program: Command) {}
