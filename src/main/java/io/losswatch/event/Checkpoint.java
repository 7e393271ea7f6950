package io.losswatch.event;

import io.losswatch.core.state.State;

/**
 * A built-in run's exact state after {@code step}, for the store to keep beside its history: the run resumes
 * from it after a restart. Sent after the batch that holds {@code step}, on the same address, so the store has
 * the steps before it takes the checkpoint. The state is a copy no one changes.
 */
public record Checkpoint(String run, long step, State state) implements RunEvent {
  @Override
  public void tell(Listener to) {
    to.checkpoint(this);
  }
}
