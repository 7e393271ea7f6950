package io.losswatch.history;

import static io.losswatch.history.Downsample.greater;
import static io.losswatch.history.Downsample.less;

import io.losswatch.event.StepBatch;

/**
 * The points that stand for a stretch of steps in live mode (a bucket): its lowest-loss, highest-loss and last
 * steps, and its last measured one (curvature), each held as a batch (immutable, shared) and an index in it. A spike
 * between two buckets is never hidden (NaN counts as the highest), and a bucket is a few hundred bytes however many
 * steps it stands for. Not thread-safe: one owner.
 */
public final class BucketPoints {
  private static final int MIN = 0;
  private static final int MAX = 1;
  private static final int LAST = 2;
  private static final int MEASURED = 3;
  private final StepBatch[] from = new StepBatch[4];
  private final int[] at = new int[4];
  private boolean pending;
  private boolean measured;

  /**
   * Adds the steps of {@code b} from index {@code lo} on, which come after every step held; {@code min} and {@code max}
   * are the indexes of their lowest and highest loss (found by whoever sees the batch first, for all its readers).
   */
  public void add(StepBatch b, int lo, int min, int max) {
    if (!pending || less(b.loss()[min], loss(MIN))) put(MIN, b, min);
    if (!pending || greater(b.loss()[max], loss(MAX))) put(MAX, b, max);
    put(LAST, b, b.size() - 1);
    int m = b.lastMeasured();
    if (m >= lo) {
      put(MEASURED, b, m);
      measured = true;
    }
    pending = true;
  }

  /** Adds all of {@code b}, after every step held. */
  public void add(StepBatch b) {
    int[] ext = extremes(b, 0);
    add(b, 0, ext[0], ext[1]);
  }

  /** Adds the steps of {@code b}, which come before every step held (the steps a late subscriber's overview lacks). */
  public void addBefore(StepBatch b) {
    int[] ext = extremes(b, 0);
    if (!pending || less(b.loss()[ext[0]], loss(MIN))) put(MIN, b, ext[0]);
    if (!pending || greater(b.loss()[ext[1]], loss(MAX))) put(MAX, b, ext[1]);
    if (!pending) put(LAST, b, b.size() - 1);
    int m = b.lastMeasured();
    if (m >= 0 && !measured) {
      put(MEASURED, b, m);
      measured = true;
    }
    pending = true;
  }

  /** The indexes of the lowest and highest loss of {@code b} from index {@code lo} on. */
  public static int[] extremes(StepBatch b, int lo) {
    int min = lo;
    int max = lo;
    for (int i = lo + 1; i < b.size(); i++) {
      if (less(b.loss()[i], b.loss()[min])) min = i;
      if (greater(b.loss()[i], b.loss()[max])) max = i;
    }
    return new int[] {min, max};
  }

  public boolean pending() {
    return pending;
  }

  /** The last step held (only while {@link #pending()}). */
  public long lastStep() {
    return step(LAST);
  }

  /** The cycle of the steps held (only while {@link #pending()}). */
  public int cycle() {
    return from[LAST].cycle();
  }

  /** The points held (one run's, of one cycle), in step order, each step once, as a batch; nothing is held after. */
  public StepBatch take() {
    int[] order = measured ? new int[] {MIN, MAX, LAST, MEASURED} : new int[] {MIN, MAX, LAST};
    for (int i = 1; i < order.length; i++) {
      for (int j = i; j > 0 && step(order[j]) < step(order[j - 1]); j--) {
        int x = order[j];
        order[j] = order[j - 1];
        order[j - 1] = x;
      }
    }
    StepBatch.Builder out = new StepBatch.Builder(4);
    long prev = Long.MIN_VALUE;
    for (int k : order) {
      if (step(k) == prev) continue;   // a step is in one batch only: the same point
      out.add(from[k], at[k]);
      prev = step(k);
    }
    StepBatch points = out.build(from[LAST].run(), from[LAST].cycle());
    clear();
    return points;
  }

  /** Holds nothing. */
  public void clear() {
    pending = false;
    measured = false;
    java.util.Arrays.fill(from, null);
  }

  private long step(int slot) {
    return from[slot].step()[at[slot]];
  }

  private double loss(int slot) {
    return from[slot].loss()[at[slot]];
  }

  private void put(int slot, StepBatch b, int i) {
    from[slot] = b;
    at[slot] = i;
  }
}
