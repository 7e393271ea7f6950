package io.losswatch.store;

import static io.losswatch.store.Downsample.greater;
import static io.losswatch.store.Downsample.less;

import java.nio.ByteBuffer;

/**
 * The loss extremes of a log's whole blocks of {@link #SIZE} records, kept beside the columns in
 * {@code loss.blocks}: per block, where its minimum and maximum loss are and those losses (NaN ranks above
 * every number, as in {@link Downsample}). An overview reads a few records per bucket instead of every step,
 * so its cost follows the number of buckets, not the length of the run. Block j holds records
 * {@code j·SIZE .. (j + 1)·SIZE − 1}; its entry is 32 little-endian bytes: the min's record + 1, the min, the
 * max's record + 1, the max (counted from 1, so that a zero-filled entry is no block's).
 *
 * <p>An instance is the block being filled; {@link #add} folds in one record at a time.
 */
final class Blocks {
  static final int SIZE = 4096;
  static final int RECORD = 32;
  static final String FILE = "loss.blocks";
  private long minAt;
  private double min;
  private long maxAt;
  private double max;
  private int filled;

  Blocks copy() {
    Blocks c = new Blocks();
    c.minAt = minAt;
    c.min = min;
    c.maxAt = maxAt;
    c.max = max;
    c.filled = filled;
    return c;
  }

  /** Folds in record {@code record} (the next one) with its loss; true when that completed the block. */
  boolean add(long record, double loss) {
    if (filled == 0 || less(loss, min)) {
      min = loss;
      minAt = record;
    }
    if (filled == 0 || greater(loss, max)) {
      max = loss;
      maxAt = record;
    }
    return ++filled == SIZE;
  }

  /** Writes the completed block's entry and starts the next block. */
  void write(ByteBuffer out) {
    out.putLong(minAt + 1).putDouble(min).putLong(maxAt + 1).putDouble(max);
    filled = 0;
  }

  /** Whether the entry at {@code at} of {@code b} is block {@code j}'s: a zero-filled or torn one is not. */
  static boolean valid(ByteBuffer b, int at, long j) {
    long lo = j * SIZE + 1;
    long hi = (j + 1) * SIZE;
    long minAt = b.getLong(at);
    long maxAt = b.getLong(at + 16);
    return minAt >= lo && minAt <= hi && maxAt >= lo && maxAt <= hi;
  }

  /** The complete blocks' entries, mapped: read by block. */
  record View(ByteBuffer records, long count) {
    long minRecord(long j) {
      return records.getLong((int) (j * RECORD)) - 1;
    }

    long maxRecord(long j) {
      return records.getLong((int) (j * RECORD + 16)) - 1;
    }

    double min(long j) {
      return records.getDouble((int) (j * RECORD + 8));
    }

    double max(long j) {
      return records.getDouble((int) (j * RECORD + 24));
    }
  }
}
