package io.losswatch.store;

import io.losswatch.event.StepBatch;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.LongBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One run's steps on disk, one file per column of little-endian 8-byte values ({@code loss.f64},
 * {@code lr.f64}, {@code grad_norm.f64}, {@code t.i64}); step k is record k − 1, so steps need no column.
 * Columns keep range scans cheap: downsampling reads the loss file alone. Opening cuts the files back to
 * their last whole record, shared by all four, so a tail torn by a kill never fails the start.
 *
 * <p>One thread appends; any thread reads what {@link #count()} covers.
 */
public final class StepLog implements AutoCloseable {
  private static final String[] FILES = {"loss.f64", "lr.f64", "grad_norm.f64", "t.i64"};
  private final Path dir;
  private final FileChannel[] columns = new FileChannel[FILES.length];
  private final ByteBuffer[] buffers = new ByteBuffer[FILES.length];
  private volatile long count;

  private StepLog(Path dir) throws IOException {
    this.dir = dir;
    Files.createDirectories(dir);
    long whole = Long.MAX_VALUE;
    for (int c = 0; c < FILES.length; c++) {
      columns[c] = FileChannel.open(dir.resolve(FILES[c]), StandardOpenOption.CREATE, StandardOpenOption.READ,
          StandardOpenOption.WRITE);
      whole = Math.min(whole, columns[c].size() / 8);
      buffers[c] = ByteBuffer.allocateDirect(64 * 1024).order(ByteOrder.LITTLE_ENDIAN);
    }
    for (FileChannel ch : columns) {
      if (ch.size() != whole * 8) ch.truncate(whole * 8);
    }
    count = whole;
  }

  /** Opens (creating if need be) the log in {@code dir}, repairing a torn tail. */
  public static StepLog open(Path dir) throws IOException {
    return new StepLog(dir);
  }

  public Path dir() {
    return dir;
  }

  /** Steps on disk. */
  public long count() {
    return count;
  }

  /** Appends a batch whose first step is {@link #count()} + 1. */
  public synchronized void append(StepBatch b) throws IOException {
    for (int from = 0; from < b.size(); ) {
      int n = Math.min(b.size() - from, buffers[0].capacity() / 8);
      for (int c = 0; c < FILES.length; c++) {
        ByteBuffer buf = buffers[c].clear();
        for (int i = from; i < from + n; i++) {
          switch (c) {
            case 0 -> buf.putDouble(b.loss()[i]);
            case 1 -> buf.putDouble(b.lr()[i]);
            case 2 -> buf.putDouble(b.gradNorm()[i]);
            default -> buf.putLong(b.t()[i]);
          }
        }
        buf.flip();
        long pos = (count + from) * 8;
        while (buf.hasRemaining()) pos += columns[c].write(buf, pos);
      }
      from += n;
    }
    count += b.size();
  }

  /** Empties the log (a run starting over). */
  public synchronized void truncate() throws IOException {
    count = 0;
    for (FileChannel ch : columns) ch.truncate(0);
  }

  /** Steps {@code from}..{@code to} (1-based, inclusive, within {@link #count()}), mapped read-only. */
  Columns map(long from, long to) throws IOException {
    int n = (int) (to - from + 1);
    long pos = (from - 1) * 8;
    DoubleBuffer loss = columns[0].map(FileChannel.MapMode.READ_ONLY, pos, n * 8L).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer();
    DoubleBuffer lr = columns[1].map(FileChannel.MapMode.READ_ONLY, pos, n * 8L).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer();
    DoubleBuffer g = columns[2].map(FileChannel.MapMode.READ_ONLY, pos, n * 8L).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer();
    LongBuffer t = columns[3].map(FileChannel.MapMode.READ_ONLY, pos, n * 8L).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer();
    return new Columns() {
      @Override public int size() {
        return n;
      }

      @Override public long step(int i) {
        return from + i;
      }

      @Override public double loss(int i) {
        return loss.get(i);
      }

      @Override public double lr(int i) {
        return lr.get(i);
      }

      @Override public double gradNorm(int i) {
        return g.get(i);
      }

      @Override public long t(int i) {
        return t.get(i);
      }
    };
  }

  @Override
  public synchronized void close() throws IOException {
    for (FileChannel ch : columns) ch.close();
  }
}
