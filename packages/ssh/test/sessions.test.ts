import { describe, expect, it } from 'vitest';
import { SessionCount } from '../src/sessions.js';

// The accounting behind MaxSessions learning (openssh.test.ts drives it against a real sshd under
// churn); here the orderings that churn produces only sometimes, every time.
describe('SessionCount: what the server surely held when it answered an open', () => {
  it('counts a burst fully even when its first channels close before the last open is answered', () => {
    const sessions = new SessionCount();
    const burst = Array.from({ length: 10 }, () => sessions.openSent());
    for (const seq of burst.slice(0, 9)) {
      expect(sessions.heldWhenAnswered(seq)).toBe(seq);
      sessions.answered(seq, true);
    }
    // Instant commands: the first three are done and closed before the tenth is confirmed.
    for (const seq of burst.slice(0, 3)) sessions.closeSent(seq);
    // Those closes went out after the tenth open: sshd held all nine when it took it.
    expect(sessions.heldWhenAnswered(burst[9]!)).toBe(9);
    sessions.answered(burst[9]!, true);
    expect(sessions.openCount).toBe(7);
  });

  it('does not count a channel whose close went out before the open', () => {
    const sessions = new SessionCount();
    const first = sessions.openSent();
    const second = sessions.openSent();
    sessions.answered(first, true);
    sessions.answered(second, true);
    sessions.closeSent(first);
    // An open right behind a close: if refused, sshd may still have counted `first`, but we may not.
    const third = sessions.openSent();
    expect(sessions.heldWhenAnswered(third)).toBe(1);
    sessions.answered(third, false);
    expect(sessions.openCount).toBe(1);
  });

  it('counts only channels opened before the answered one, and forgets closes no pending open needs', () => {
    const sessions = new SessionCount();
    const a = sessions.openSent();
    const b = sessions.openSent();
    sessions.answered(a, true);
    sessions.closeSent(a);
    sessions.answered(b, true);
    const c = sessions.openSent();
    // `a` closed before `c` went out; `b` is open; nothing opened after `c` counts.
    expect(sessions.heldWhenAnswered(c)).toBe(1);
    sessions.answered(c, true);
    sessions.closeSent(b);
    sessions.closeSent(b); // a second close of the same channel changes nothing
    expect(sessions.openCount).toBe(1);
  });
});
