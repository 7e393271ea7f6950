package io.losswatch.web;

import io.losswatch.event.RunState;
import io.losswatch.event.RunSummary;
import io.losswatch.run.Steps;

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
  /** Whether the last read of the history, since the waiting state change came, found no step from the cursor on. */
  boolean drained;
  /** A failed read is tried again from then on (epoch ms), and said to the client once. */
  long retryAt;
  boolean failing;

  ExactSubscription(String run, int cycle, long fromStep) {
    super(run, cycle);
    this.next = fromStep;
  }

  @Override void restart(int newCycle) {
    super.restart(newCycle);
    next = 1;
    behind = true;
    drained = false;
  }

  @Override boolean settled() {
    return introduced() && !behind && !summaryWaiting();
  }

  @Override Steps.Interest interest() {
    return Steps.Interest.EVERY;
  }

  @Override void summary(RunSummary s, String text) {
    super.summary(s, text);
    drained = false;
  }

  /**
   * A run whose node left the cluster ({@code lost}) had steps its summary may not count: its state goes once the
   * history (a shared data folder's) has none left from the cursor on. Any other state goes after its last step.
   */
  @Override boolean stepsOut(RunSummary s) {
    return s.state() == RunState.LOST ? drained : next > s.step();
  }

  /** Whether a waiting state change needs steps that no batch may bring here: the history is read for them. */
  boolean wantsSteps() {
    RunSummary w = waiting();
    return w != null && introduced() && !drained && !stepsOut(w);
  }
}
