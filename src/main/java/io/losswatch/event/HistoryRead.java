package io.losswatch.event;

/**
 * A request for run {@code run}'s steps, to whatever holds them (its history on this node, or the node that owns
 * it): those from step {@code from} to step {@code to} (inclusive, clipped to what there is), at most {@code count}
 * of them, every one, or downsampled (M4) to at most {@code maxPoints} when that is positive; of the run as it now
 * stands ({@code stretch} 0), or the whole stretch its {@code stretch}-th rewind took out. The reply is a
 * {@link StepBatch} (empty when there is nothing there). With {@code metrics}, the reply holds each extra scalar's
 * finite values in the range instead, each thinned on its own (M4 of its values) to {@code maxPoints}: its column is
 * NaN at the steps another metric kept, the loss, lr and gradient columns NaN throughout.
 */
public record HistoryRead(String run, long from, long to, int maxPoints, int count, int stretch, boolean metrics) {
  public HistoryRead(String run, long from, long to, int maxPoints, int count, int stretch) {
    this(run, from, to, maxPoints, count, stretch, false);
  }

  /** Each metric's finite values in steps {@code from}..{@code to}, at most {@code maxPoints} of each when positive. */
  public static HistoryRead metrics(String run, long from, long to, int maxPoints) {
    return new HistoryRead(run, from, to, maxPoints, Integer.MAX_VALUE, 0, true);
  }

  /** At most {@code count} steps from step {@code from} on, every one (a chunk of an export or of a catching-up client). */
  public static HistoryRead head(String run, long from, int count) {
    return new HistoryRead(run, from, Long.MAX_VALUE, 0, count, 0);
  }

  /** Steps {@code from}..{@code to}, every one, or downsampled to at most {@code maxPoints} when that is positive. */
  public static HistoryRead range(String run, long from, long to, int maxPoints) {
    return new HistoryRead(run, from, to, maxPoints, Integer.MAX_VALUE, 0);
  }

  /** The steps the run's {@code stretch}-th rewind took out (from 1), whole. */
  public static HistoryRead abandoned(String run, int stretch) {
    return new HistoryRead(run, 1, Long.MAX_VALUE, 0, Integer.MAX_VALUE, stretch);
  }
}
