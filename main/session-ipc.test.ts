/** Every session message from the page is checked in main: exactly the contract, or refused with a reason. */
import { describe, expect, it } from 'vitest';
import {
  dispatch,
  isTrustedSenderUrl,
  MAX_MESSAGE_CHARS,
  parseAutosaveMessage,
  parseEmpty,
  parseOpenRequest,
  parseRecoveryRequest,
  parseSaveRequest,
  parseStateMessage,
} from './session-ipc.ts';

const reason = (r: { ok: boolean; reason?: string }) => (r.ok ? 'ok' : r.reason);

describe('open', () => {
  it.each<[unknown, string]>([
    [{ kind: 'dialog' }, 'ok'],
    [{ kind: 'pending' }, 'ok'],
    [{ kind: 'recent', path: '/a/b.iommulab' }, 'ok'],
    [{ kind: 'dropped', path: 'C:\\x\\y.iommulab' }, 'ok'],
    [undefined, 'not an object'],
    [null, 'not an object'],
    [[{ kind: 'dialog' }], 'not an object'],
    ['dialog', 'not an object'],
    [{ kind: 'shell', path: '/bin/sh' }, 'unknown kind "shell"'],
    [{ kind: 'dialog', path: '/etc/passwd' }, "unexpected field 'path'"],
    [{ kind: 'recent' }, 'path must be a non-empty string'],
    [{ kind: 'recent', path: '' }, 'path must be a non-empty string'],
    [{ kind: 'recent', path: 'a\0b' }, 'path must be a non-empty string'],
    [{ kind: 'recent', path: 'x'.repeat(5000) }, 'path must be a non-empty string'],
    [{ kind: 'recent', path: 42 }, 'path must be a non-empty string'],
  ])('%j → %s', (msg, want) => expect(reason(parseOpenRequest(msg))).toBe(want));
});

describe('save', () => {
  it.each<[unknown, string]>([
    [{ content: '{}', saveAs: false }, 'ok'],
    [{ content: '{}', saveAs: true, suggestedName: 'lab.iommulab' }, 'ok'],
    [{ content: 5, saveAs: false }, 'content must be a string'],
    [{ content: '{}' }, 'saveAs must be true or false'],
    [{ content: '{}', saveAs: 'yes' }, 'saveAs must be true or false'],
    [{ content: '{}', saveAs: false, path: '/etc/passwd' }, "unexpected field 'path'"],
    [
      { content: '{}', saveAs: false, suggestedName: 'x'.repeat(300) },
      'suggestedName must be a short string',
    ],
    [
      { content: 'x'.repeat(MAX_MESSAGE_CHARS + 1), saveAs: false },
      'content is larger than a session may be',
    ],
  ])('%#: %s', (msg, want) => expect(reason(parseSaveRequest(msg))).toBe(want));

  it('an object with another prototype is refused', () => {
    class Sneaky {
      content = '{}';
      saveAs = false;
    }
    expect(reason(parseSaveRequest(new Sneaky()))).toBe('not an object');
  });
});

describe('state, autosave, recovery, empty', () => {
  it('checks each field', () => {
    expect(reason(parseStateMessage({ dirty: true, name: 'a.iommulab' }))).toBe('ok');
    expect(reason(parseStateMessage({ dirty: 1, name: 'a' }))).toBe('dirty must be true or false');
    expect(reason(parseStateMessage({ dirty: false }))).toBe('name must be a short string');
    expect(reason(parseAutosaveMessage({ content: null }))).toBe('ok');
    expect(reason(parseAutosaveMessage({ content: '{}' }))).toBe('ok');
    expect(reason(parseAutosaveMessage({}))).toBe('content must be a string or null');
    expect(reason(parseAutosaveMessage({ content: {} }))).toBe('content must be a string or null');
    expect(reason(parseRecoveryRequest({ id: 'a1-b2', action: 'restore' }))).toBe('ok');
    expect(reason(parseRecoveryRequest({ id: '../x', action: 'restore' }))).toBe('id must be an autosave id');
    expect(reason(parseRecoveryRequest({ id: 'a', action: 'delete-all' }))).toBe(
      "action must be 'restore' or 'discard'",
    );
    expect(reason(parseEmpty(undefined))).toBe('ok');
    expect(reason(parseEmpty({}))).toBe('this message takes no payload');
  });

  it('only the lab page is a trusted sender', () => {
    expect(isTrustedSenderUrl('app://lab/index.html')).toBe(true);
    expect(isTrustedSenderUrl('app://lab')).toBe(true);
    expect(isTrustedSenderUrl('app://lab.evil/index.html')).toBe(false);
    expect(isTrustedSenderUrl('https://example.com/')).toBe(false);
    expect(isTrustedSenderUrl(undefined)).toBe(false);
  });
});

describe('dispatch', () => {
  type Reply = { status: string; message?: string; v?: unknown };
  const refused = (why: string): Reply => ({ status: 'error', message: why });
  const run = async (
    args: unknown[],
    trusted = true,
    handler: (v: unknown) => Promise<Reply> = async (v) => ({ status: 'ok', v }),
  ) => {
    const logged: string[] = [];
    const r = await dispatch('session:open', args, trusted, parseOpenRequest, handler, refused, (l) =>
      logged.push(l),
    );
    return { r, logged };
  };

  it('passes a good message to the handler', async () => {
    expect(await run([{ kind: 'dialog' }])).toEqual({
      r: { status: 'ok', v: { kind: 'dialog' } },
      logged: [],
    });
  });

  it('refuses and logs what is malformed, unknown, extra or from elsewhere, without calling the handler', async () => {
    let called = 0;
    const h = async (): Promise<Reply> => {
      called++;
      return { status: 'ok' };
    };
    for (const [args, trusted, why] of [
      [[{ kind: 'rm -rf' }], true, 'unknown kind "rm -rf"'],
      [[undefined], true, 'not an object'],
      [[{ kind: 'dialog' }, 'extra'], true, 'too many arguments'],
      [[{ kind: 'dialog' }], false, 'not from the lab window'],
    ] as const) {
      const { r, logged } = await run([...args], trusted, h);
      expect(r).toEqual({ status: 'error', message: `refused: ${why}` });
      expect(logged).toEqual([`[ipc] refused session:open: ${why}`]);
    }
    expect(called).toBe(0);
  });

  it('a handler that throws is logged and answered; nothing is thrown at main', async () => {
    const { r, logged } = await run([{ kind: 'dialog' }], true, async () => {
      throw new Error('EIO reading the disk');
    });
    expect(r).toEqual({ status: 'error', message: 'internal error: EIO reading the disk' });
    expect(logged).toEqual(['[ipc] session:open failed']);
  });
});
