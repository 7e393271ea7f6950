package io.losswatch.history;

import static io.losswatch.history.Downsample.greater;
import static io.losswatch.history.Downsample.less;

import java.nio.ByteBuffer;

/**
 * A log's whole blocks of {@link #SIZE} records summed up in {@code loss.blocks}, beside the columns: per block,
 * its first, minimum-loss, maximum-loss and last steps (NaN ranks above every number, as in {@link Downsample}),
 * each whole (step, loss, lr, grad_norm, t). An overview whose buckets are whole blocks is read from these
 * entries alone, so its cost follows the number of buckets, not the length of the run. Block j holds records
 * {@code j·SIZE .. (j + 1)·SIZE − 1}; its entry is 160 little-endian bytes, the four points in that order.
 *
 * <p>An instance is the block being filled; {@link #add} folds in one record at a time.
 */
final class Blocks {
  static final int SIZE = 1024;
  static final int FIRST = 0;
  static final int MIN = 1;
  static final int MAX = 2;
  static final int LAST = 3;
  private static final int POINT = 40;
  static final int RECORD = 4 * POINT;
  static final String FILE = "loss.blocks";
  /** The four points, columnar: step, loss, lr, grad_norm, t. */
  private final long[] step = new long[4];
  private final double[] loss = new double[4];
  private final double[] lr = new double[4];
  private final double[] grad = new double[4];
  private final long[] t = new long[4];
  private int filled;

  Blocks copy() {
    Blocks c = new Blocks();
    for (int k = 0; k < 4; k++) c.put(k, step[k], loss[k], lr[k], grad[k], t[k]);
    c.filled = filled;
    return c;
  }

  /** Folds in the next record; true when that completed the block. */
  boolean add(long s, double l, double r, double g, long time) {
    if (filled == 0) put(FIRST, s, l, r, g, time);
    if (filled == 0 || less(l, loss[MIN])) put(MIN, s, l, r, g, time);
    if (filled == 0 || greater(l, loss[MAX])) put(MAX, s, l, r, g, time);
    put(LAST, s, l, r, g, time);
    return ++filled == SIZE;
  }

  private void put(int k, long s, double l, double r, double g, long time) {
    step[k] = s;
    loss[k] = l;
    lr[k] = r;
    grad[k] = g;
    t[k] = time;
  }

  /** Writes the completed block's entry and starts the next block. */
  void write(ByteBuffer out) {
    for (int k = 0; k < 4; k++) out.putLong(step[k]).putDouble(loss[k]).putDouble(lr[k]).putDouble(grad[k]).putLong(t[k]);
    filled = 0;
  }

  /** Whether the entry at {@code at} of {@code b} is whole: a zero-filled one (no step has time 0) or a torn one is not. */
  static boolean valid(ByteBuffer b, int at) {
    long first = b.getLong(at);
    long last = b.getLong(at + LAST * POINT);
    for (int k = 0; k < 4; k++) {
      long s = b.getLong(at + k * POINT);
      if (b.getLong(at + k * POINT + 32) == 0 || s < first || s > last) return false;
    }
    return true;
  }

  /** The complete blocks' entries, mapped: point {@code k} (FIRST, MIN, MAX, LAST) of block {@code j}. */
  record View(ByteBuffer entries, long count) {
    private int at(long j, int k) {
      return (int) (j * RECORD + k * POINT);
    }

    long step(long j, int k) {
      return entries.getLong(at(j, k));
    }

    double loss(long j, int k) {
      return entries.getDouble(at(j, k) + 8);
    }

    double lr(long j, int k) {
      return entries.getDouble(at(j, k) + 16);
    }

    double gradNorm(long j, int k) {
      return entries.getDouble(at(j, k) + 24);
    }

    long t(long j, int k) {
      return entries.getLong(at(j, k) + 32);
    }
  }
}
