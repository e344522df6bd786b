/**
 * The channels one connection's server surely holds, counted from our side of the wire. The server
 * answers opens in the order we sent them; when it handled our open S it held every channel opened
 * before S whose close we had not sent yet, and maybe more: OpenSSH frees a session only after the
 * loop turn that read our close, so a close sent just before S may still count there. Counting
 * only what it surely held gives a lower bound of its MaxSessions that no churn can push too low.
 */
export class SessionCount {
  /** Orders our opens and closes as they went out. */
  private tick = 0;
  private nextSeq = 0;
  /** Opens sent and not answered yet: seq -> tick sent. */
  private readonly pending = new Map<number, number>();
  /** Channels the server confirmed and whose close we have not sent. */
  private readonly open = new Set<number>();
  /** Closes sent while an open was pending, kept while an open sent before them awaits its answer. */
  private recentCloses: { seq: number; tick: number }[] = [];

  /** Our open goes out now; the returned seq names it from here on. */
  openSent(): number {
    const seq = this.nextSeq++;
    this.pending.set(seq, ++this.tick);
    return seq;
  }

  /** Channels the server surely held, besides this one, when it answered the open `seq`. */
  heldWhenAnswered(seq: number): number {
    const sentAt = this.pending.get(seq) ?? this.tick;
    let held = 0;
    for (const other of this.open) if (other < seq) held++;
    for (const close of this.recentCloses) if (close.seq < seq && close.tick > sentAt) held++;
    return held;
  }

  /** The server answered the open `seq`: confirmed (`isOpen`) or refused. */
  answered(seq: number, isOpen: boolean): void {
    this.pending.delete(seq);
    if (isOpen) this.open.add(seq);
    this.forgetOldCloses();
  }

  /** Our close of `seq` went out (or the channel is gone); once per channel is enough. */
  closeSent(seq: number): void {
    if (!this.open.delete(seq)) return;
    if (this.pending.size > 0) this.recentCloses.push({ seq, tick: ++this.tick });
  }

  /** Channels confirmed and not closed. */
  get openCount(): number {
    return this.open.size;
  }

  private forgetOldCloses(): void {
    if (this.recentCloses.length === 0) return;
    let oldestPending = Infinity;
    for (const sentAt of this.pending.values()) oldestPending = Math.min(oldestPending, sentAt);
    this.recentCloses = this.recentCloses.filter((close) => close.tick > oldestPending);
  }
}
