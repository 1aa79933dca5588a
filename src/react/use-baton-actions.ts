// useBatonActions(): call any operation, pause and resume the snapshot, sync
// now. The same object for the life of the store, so it can sit in a
// dependency list without re-running anything.
import { useStore } from './provider.ts';
import type { BatonActions } from './types.ts';

export function useBatonActions(): BatonActions {
  return useStore().actions;
}
