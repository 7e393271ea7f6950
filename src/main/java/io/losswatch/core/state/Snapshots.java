package io.losswatch.core.state;

import java.util.ArrayDeque;
import java.util.Iterator;

/**
 * A run's recent exact states, one every {@link #every} steps, the oldest let go past {@link #maxCount} of them
 * or {@link #maxBytes} (always keeping two), so branching or rewinding a few hundred steps back replays from the
 * nearest one instead of from step 0.
 */
public final class Snapshots {
  /** One kept state: the run's state after {@code step}. */
  public record Snapshot(long step, State state) {
  }

  private final int every;
  private final long maxBytes;
  private final int maxCount;
  private final ArrayDeque<Snapshot> kept = new ArrayDeque<>();
  private long bytes;

  public Snapshots(int every, int maxCount, long maxBytes) {
    this.every = every;
    this.maxCount = maxCount;
    this.maxBytes = maxBytes;
  }

  /** The oldest kept, or null. */
  public Snapshot oldest() {
    return kept.peekFirst();
  }

  public int every() {
    return every;
  }

  /** Whether the state after {@code step} should be kept. */
  public boolean due(long step) {
    return step % every == 0 && (kept.isEmpty() || kept.peekLast().step() < step);
  }

  public void add(long step, State s) {
    kept.addLast(new Snapshot(step, s));
    bytes += s.bytes();
    while (kept.size() > 2 && (bytes > maxBytes || kept.size() > maxCount)) bytes -= kept.removeFirst().state().bytes();
  }

  /** The newest snapshot at or before {@code step}, or null. */
  public Snapshot atOrBefore(long step) {
    for (Iterator<Snapshot> it = kept.descendingIterator(); it.hasNext(); ) {
      Snapshot s = it.next();
      if (s.step() <= step) return s;
    }
    return null;
  }

  /** Forgets the snapshots after {@code step} (a rewind went back past them). */
  public void dropAfter(long step) {
    while (!kept.isEmpty() && kept.peekLast().step() > step) bytes -= kept.removeLast().state().bytes();
  }

  public void clear() {
    kept.clear();
    bytes = 0;
  }
}
