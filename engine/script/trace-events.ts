/** Script-level steps: one call and one return event per API call the script makes. */
import { defineEvent } from '../trace/events.ts';

export const ev = {
  /** Arguments as numbers: handles by id, strings interned, arrays by length (the Trace panel names them). */
  api_call: defineEvent('api_call', 'call', ['fn:s', 'a0:x', 'a1:x', 'a2:x', 'a3:x', 'a4:x']),
  api_return: defineEvent('api_return', 'return', ['fn:s', 'ret:i']),
};
