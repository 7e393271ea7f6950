package io.losswatch.event;

/** A run's lifecycle change (created, a new state, deleted), carrying its summary as of the change. */
public record RunEvent(RunSummary summary, boolean deleted) {
  public String run() {
    return summary.id();
  }
}
