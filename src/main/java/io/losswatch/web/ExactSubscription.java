package io.losswatch.web;

/**
 * An {@code all} subscription: every step of the run from {@code from_step} (1 by default), exactly once, in
 * order. Only a cursor: the next step the client needs. A client that keeps up takes the steps from the
 * batches as they come (their messages are written once for every such client); one that is behind (it
 * subscribed late, or its queue was full) reads them from the run's history, a chunk at a time, at its own
 * pace, until it has caught up. Nothing is ever skipped, and nothing is buffered per client.
 */
final class ExactSubscription extends Subscription {
  /** Steps per history chunk (one message, about 100 kB). */
  static final int CHUNK = Fanout.MAX_STEPS_PER_MESSAGE;
  long next;
  /** Whether a history chunk is being read for this client (one at a time). */
  boolean reading;
  /** Whether the client misses steps the batches no longer bring: it reads the history until it has caught up. */
  boolean behind = true;

  ExactSubscription(String run, int cycle, long fromStep) {
    super(run, cycle);
    this.next = fromStep;
  }

  @Override void restart(int newCycle) {
    super.restart(newCycle);
    next = 1;
    behind = true;
  }

  @Override boolean settled() {
    return introduced() && !behind && !summaryWaiting();
  }

  @Override boolean stepsOut(long step) {
    return next > step;
  }
}
