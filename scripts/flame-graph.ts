import { readFileSync, writeFileSync } from 'node:fs';

/**
 * Renders a V8 CPU profile (`node --cpu-prof`, or the bench's `--cpu-prof DIR`) as a flame graph
 * in SVG, without a dependency: `npx tsx scripts/flame-graph.ts IN.cpuprofile OUT.svg [title]`.
 * Width is the share of samples; a frame narrower than 0.3 % of the whole is left out to keep
 * the file small. The idle and garbage-collector roots are kept: they are part of where the
 * time goes.
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

interface Frame {
  name: string;
  self: number;
  total: number;
  children: Map<string, Frame>;
}

const shortUrl = (url: string) =>
  url
    .replace(/^file:\/\//, '')
    .replace(/^.*node_modules\//, '')
    .replace(/^.*\/(src|bench|dist)\//, '$1/');

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const name = functionName || '(anonymous)';
  return url ? `${name} ${shortUrl(url)}:${lineNumber + 1}` : name;
}

/** The call tree with time per frame (µs), frames of the same name under one parent merged. */
function tree(profile: Profile): Frame {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const build = (node: ProfileNode, into: Frame) => {
    const name = label(node);
    let frame = into.children.get(name);
    if (!frame) {
      frame = { name, self: 0, total: 0, children: new Map() };
      into.children.set(name, frame);
    }
    frame.self += self.get(node.id) ?? 0;
    for (const child of node.children ?? []) {
      const next = byId.get(child);
      if (next) build(next, frame);
    }
  };
  const root: Frame = { name: 'all', self: 0, total: 0, children: new Map() };
  const first = profile.nodes[0];
  if (first) for (const child of first.children ?? []) build(byId.get(child) as ProfileNode, root);
  const sum = (frame: Frame): number => {
    frame.total = frame.self + [...frame.children.values()].reduce((s, c) => s + sum(c), 0);
    return frame.total;
  };
  sum(root);
  return root;
}

const xml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function hue(name: string): string {
  if (name.includes('node_modules') || /fastify|pino|light-my|avvio|find-my-way|lru-cache/.test(name)) return '35';
  if (/ src\//.test(name)) return '200';
  if (name.startsWith('(')) return '0';
  return '20';
}

export function render(profile: Profile, title: string): string {
  const root = tree(profile);
  const width = 1600;
  const row = 16;
  const minShare = 0.003;
  const boxes: { frame: Frame; x: number; w: number; level: number }[] = [];
  const place = (frame: Frame, x: number, level: number) => {
    boxes.push({ frame, x, w: (frame.total / root.total) * width, level });
    let cx = x;
    for (const child of [...frame.children.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      if (child.total / root.total >= minShare) place(child, cx, level + 1);
      cx += (child.total / root.total) * width;
    }
  };
  place(root, 0, 0);
  const levels = Math.max(...boxes.map((b) => b.level)) + 1;
  const height = levels * row + 24;
  // The root at the bottom, callees above their callers.
  const drawn = boxes.map(({ frame, x, w, level }) => {
    const y = (levels - 1 - level) * row;
    const percent = ((100 * frame.total) / root.total).toFixed(2);
    const text = w > 40 ? xml(frame.name.slice(0, Math.floor(w / 6.7))) : '';
    return (
      `<g><title>${xml(frame.name)} (${percent} %)</title>` +
      `<rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${row - 1}" fill="hsl(${hue(frame.name)},70%,${60 + (level % 3) * 6}%)"/>` +
      (text ? `<text x="${(x + 3).toFixed(1)}" y="${y + 11}">${text}</text>` : '') +
      '</g>'
    );
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="monospace" font-size="11">`,
    `<title>${xml(title)}</title>`,
    ...drawn,
    `<text x="4" y="${height - 6}" font-size="12">${xml(title)}: width = share of ${(root.total / 1e6).toFixed(1)} s of samples; hover a frame for its name and share</text>`,
    '</svg>',
  ].join('\n');
}

const [input, output, title] = process.argv.slice(2);
if (!input || !output) {
  process.stderr.write('usage: npx tsx scripts/flame-graph.ts IN.cpuprofile OUT.svg [title]\n');
  process.exit(2);
}
writeFileSync(output, render(JSON.parse(readFileSync(input, 'utf8')) as Profile, title ?? input));
