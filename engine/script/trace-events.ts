/** Script-level steps: one call and one return event per API call the script makes. */
import { defineEvent } from '../trace/events.ts';

export const ev = {
  /**
   * The first five arguments and the result as the script passed and got them: finite numbers as
   * they are, anything else as a text (arg-text.ts: `domain 2`, `"smmu0"`), an argument not passed
   * (undefined) and a void result as nothing.
   */
  api_call: defineEvent('api_call', 'call', ['fn:c', 'a0:v', 'a1:v', 'a2:v', 'a3:v', 'a4:v', 'a5:v']),
  api_return: defineEvent('api_return', 'return', ['fn:c', 'ret:v']),
};
