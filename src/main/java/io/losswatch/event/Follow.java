package io.losswatch.event;

/**
 * What node {@code node} wants of run {@code run}'s new steps, told to the node that owns the run: every one
 * ({@code every}), or its live buckets ({@link Bucket}) at most {@code hz} times a second ({@code hz} > 0), or
 * nothing more (neither). The newest word counts: {@code seq} grows with each of the node's words about the run, so
 * the owner ignores one that arrives after a newer one. The reply is the run's summary as it stands.
 */
public record Follow(String run, String node, boolean every, double hz, long seq) {
  /** Whether the node wants nothing more of the run. */
  public boolean none() {
    return !every && hz <= 0;
  }
}
