import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Layers point one way: src/http → src/features → src/db. biome.json's noRestrictedImports says
// the same while editing; this test says it whatever the lint configuration becomes.
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(entry.name) ? [path] : [];
  });
}

const SPECIFIER = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g;

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(SPECIFIER)].map((m) => (m[1] ?? m[2]) as string);
}

/** Every import of a file under `layer` that reaches into src/http or the web framework. */
function httpImports(layer: string): string[] {
  return sourceFiles(join(root, layer)).flatMap((file) =>
    importsOf(file)
      .filter((spec) => {
        if (/^(fastify|@fastify\/|fastify-plugin)/.test(spec)) return true;
        if (!spec.startsWith('.')) return false;
        return relative(join(root, 'src/http'), resolve(dirname(file), spec)).startsWith('..') === false;
      })
      .map((spec) => `${relative(root, file)} imports ${spec}`),
  );
}

describe('layers', () => {
  it.each(['src/features', 'src/db', 'src/internal'])('nothing under %s imports src/http or Fastify', (layer) => {
    expect(httpImports(layer)).toEqual([]);
  });

  it('sees an import into src/http when there is one (the check itself works)', () => {
    const routes = sourceFiles(join(root, 'src/http/routes'));
    const reaching = routes.flatMap((file) => importsOf(file)).filter((spec) => spec.includes('schemas/common.js'));
    expect(reaching.length).toBeGreaterThan(0);
    expect(httpImports('src/http/routes').length).toBeGreaterThan(0);
  });
});

/** Every chain of relative imports under src that leads back to where it started. */
function importCycles(): string[] {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(join(root, 'src'))) {
    const targets = importsOf(file)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => resolve(dirname(file), spec).replace(/\.js$/, '.ts'))
      .filter((target) => existsSync(target));
    graph.set(file, targets);
  }
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (file: string, path: string[]) => {
    state.set(file, 'open');
    path.push(file);
    for (const target of graph.get(file) ?? []) {
      if (state.get(target) === 'open') {
        cycles.push([...path.slice(path.indexOf(target)), target].map((f) => relative(root, f)).join(' → '));
      } else if (!state.has(target)) visit(target, path);
    }
    path.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file, []);
  return cycles;
}

describe('modules', () => {
  // A cycle makes the order in which modules run depend on which one is imported first.
  it('import no chain of modules under src that leads back to itself', () => {
    expect(importCycles()).toEqual([]);
  });
});
