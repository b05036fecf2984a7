/** The editor's cursor, for the status bar. */
class CursorStore {
  line = $state(1);
  column = $state(1);
}

export const cursor = new CursorStore();
