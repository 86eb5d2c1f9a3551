import type { App } from '../../types.js';
import listMerges from './list-merges.js';
import undoMerge from './undo-merge.js';

export default async function mergeRoutes(app: App) {
  for (const register of [listMerges, undoMerge]) register(app);
}
