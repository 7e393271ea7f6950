package io.losswatch.store;

import static io.losswatch.store.Downsample.greater;
import static io.losswatch.store.Downsample.less;

import java.nio.ByteBuffer;

/**
 * The loss extremes of a log's whole blocks of {@link #SIZE} steps, kept beside the columns in
 * {@code loss.blocks}: per block, the steps of its minimum and maximum loss and those losses (NaN ranks above
 * every number, as in {@link Downsample}). An overview reads a few records per bucket instead of every step,
 * so its cost follows the number of buckets, not the length of the run. Block j holds steps
 * {@code j·SIZE + 1 .. (j + 1)·SIZE}; a record is 32 little-endian bytes: min step, min loss, max step, max loss.
 *
 * <p>An instance is the block being filled; {@link #add} folds in one step at a time.
 */
final class Blocks {
  static final int SIZE = 4096;
  static final int RECORD = 32;
  static final String FILE = "loss.blocks";
  private long minStep;
  private double min;
  private long maxStep;
  private double max;
  private int filled;

  Blocks copy() {
    Blocks c = new Blocks();
    c.minStep = minStep;
    c.min = min;
    c.maxStep = maxStep;
    c.max = max;
    c.filled = filled;
    return c;
  }

  /** Folds in step {@code step} (the next one) with its loss; true when that completed the block. */
  boolean add(long step, double loss) {
    if (filled == 0 || less(loss, min)) {
      min = loss;
      minStep = step;
    }
    if (filled == 0 || greater(loss, max)) {
      max = loss;
      maxStep = step;
    }
    return ++filled == SIZE;
  }

  /** Writes the completed block's record and starts the next block. */
  void write(ByteBuffer out) {
    out.putLong(minStep).putDouble(min).putLong(maxStep).putDouble(max);
    filled = 0;
  }

  /** Whether the record at {@code at} of {@code b} is block {@code j}'s: a zero-filled or torn one is not. */
  static boolean valid(ByteBuffer b, int at, long j) {
    long lo = j * SIZE + 1;
    long hi = (j + 1) * SIZE;
    long minAt = b.getLong(at);
    long maxAt = b.getLong(at + 16);
    return minAt >= lo && minAt <= hi && maxAt >= lo && maxAt <= hi;
  }

  /** The complete blocks' records, mapped: read by index. */
  record View(ByteBuffer records, long count) {
    long minStep(long j) {
      return records.getLong((int) (j * RECORD));
    }

    long maxStep(long j) {
      return records.getLong((int) (j * RECORD + 16));
    }

    double min(long j) {
      return records.getDouble((int) (j * RECORD + 8));
    }

    double max(long j) {
      return records.getDouble((int) (j * RECORD + 24));
    }
  }
}
