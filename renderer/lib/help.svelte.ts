/** What the Help panel shows: the API reference, the scenario gallery or the checks' doc pages. */
export type HelpTab = 'api' | 'gallery' | 'checks' | 'keys';

class HelpStore {
  tab = $state<HelpTab>('api');
  /** The API reference's search text. */
  query = $state('');
}

export const help = new HelpStore();
