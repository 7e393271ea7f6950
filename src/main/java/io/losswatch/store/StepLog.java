package io.losswatch.store;

import io.losswatch.event.StepBatch;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One run's steps on disk, one file per column of little-endian 8-byte values ({@code loss.f64},
 * {@code lr.f64}, {@code grad_norm.f64}, {@code t.i64}); step k is record k − 1, so steps need no column.
 * Columns keep range scans cheap: downsampling reads the loss file alone.
 *
 * <p>The files only ever hold whole records shared by all four columns: opening cuts a tail torn by a kill,
 * or zero-filled by a power cut (no step has time 0), and a failed append cuts back what it wrote. So a full
 * disk costs the steps not yet written, never the ones before them, and writing resumes where it stopped.
 *
 * <p>Holds no file handle while idle: the writer's channels are open from the first append until
 * {@link #closeWriter()} (a run's end), and each read opens, maps and closes. One thread appends; any thread
 * reads what {@link #count()} covers.
 */
public final class StepLog {
  private static final String[] FILES = {"loss.f64", "lr.f64", "grad_norm.f64", "t.i64"};
  private static final int T = 3;
  /** Records per mapped region: a region must stay under 2 GiB, so a run of any length can be read. */
  private static final int REGION_SHIFT = 24;
  private static final int BUFFER_RECORDS = 8192;
  private final Path dir;
  private volatile long count;
  private long forced;
  private FileChannel[] writer;   // null while closed
  private ByteBuffer buffer;

  private StepLog(Path dir, long count) {
    this.dir = dir;
    this.count = count;
    this.forced = count;
  }

  /** Opens (creating if need be) the log in {@code dir}, cut back to its last whole, non-zero record. */
  public static StepLog open(Path dir) throws IOException {
    Files.createDirectories(dir);
    FileChannel[] ch = channels(dir, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    try {
      long whole = Long.MAX_VALUE;
      for (FileChannel c : ch) whole = Math.min(whole, c.size() / 8);
      whole = lastNonZero(ch[T], whole);
      for (FileChannel c : ch) if (c.size() != whole * 8) c.truncate(whole * 8);
      return new StepLog(dir, whole);
    } finally {
      close(ch);
    }
  }

  /** The number of records up to the last one whose time is not 0: what a power cut zero-filled is not a step. */
  private static long lastNonZero(FileChannel t, long records) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(BUFFER_RECORDS * 8).order(ByteOrder.LITTLE_ENDIAN);
    while (records > 0) {
      int n = (int) Math.min(records, BUFFER_RECORDS);
      b.clear().limit(n * 8);
      long pos = (records - n) * 8;
      while (b.hasRemaining() && t.read(b, pos + b.position()) >= 0) { }
      for (int i = n - 1; i >= 0; i--) if (b.getLong(i * 8) != 0) return records - n + i + 1;
      records -= n;
    }
    return 0;
  }

  public Path dir() {
    return dir;
  }

  /** Steps on disk. */
  public long count() {
    return count;
  }

  /**
   * Appends the steps of {@code b} past {@link #count()} and returns the new count. Steps already on disk are
   * skipped, so a batch retried after a failure is never written twice; a batch that would leave a hole is
   * refused. A failed write cuts every column back to the last whole record and rethrows.
   */
  public synchronized long append(StepBatch b) throws IOException {
    if (b.size() == 0 || b.lastStep() <= count) return count;
    if (b.firstStep() > count + 1) {
      throw new IllegalStateException("run log " + dir + " holds steps 1.." + count + ": a batch from step "
          + b.firstStep() + " would leave a hole");
    }
    if (writer == null) {
      writer = channels(dir, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      buffer = ByteBuffer.allocate(BUFFER_RECORDS * 8).order(ByteOrder.LITTLE_ENDIAN);
    }
    int first = (int) (count + 1 - b.firstStep());
    try {
      for (int from = first; from < b.size(); from += BUFFER_RECORDS) {
        int to = Math.min(b.size(), from + BUFFER_RECORDS);
        long pos = (count + from - first) * 8;
        for (int c = 0; c < FILES.length; c++) {
          ByteBuffer buf = buffer.clear();
          for (int i = from; i < to; i++) {
            switch (c) {
              case 0 -> buf.putDouble(b.loss()[i]);
              case 1 -> buf.putDouble(b.lr()[i]);
              case 2 -> buf.putDouble(b.gradNorm()[i]);
              default -> buf.putLong(b.t()[i]);
            }
          }
          buf.flip();
          for (long p = pos; buf.hasRemaining(); ) p += writer[c].write(buf, p);
        }
      }
    } catch (IOException e) {
      try {
        for (FileChannel c : writer) c.truncate(count * 8);
      } catch (IOException again) {
        e.addSuppressed(again);   // the next open cuts the torn tail all the same
      }
      throw e;
    }
    count += b.size() - first;
    return count;
  }

  /** Makes every appended step durable (fsync); nothing to do when nothing was appended since the last time. */
  public synchronized void force() throws IOException {
    if (writer == null || forced == count) return;
    for (FileChannel c : writer) c.force(false);
    forced = count;
  }

  /** Forces and closes the writer's files (the run ended); a later append opens them again. */
  public synchronized void closeWriter() throws IOException {
    if (writer == null) return;
    try {
      force();
    } finally {
      close(writer);
      writer = null;
      buffer = null;
    }
  }

  /** Steps {@code from}..{@code to} (1-based, inclusive, within {@link #count()}), mapped read-only. */
  Columns map(long from, long to) throws IOException {
    int n = Math.toIntExact(to - from + 1);
    MappedByteBuffer[][] regions = new MappedByteBuffer[FILES.length][];
    FileChannel[] ch = channels(dir, StandardOpenOption.READ);
    try {
      for (int c = 0; c < FILES.length; c++) {
        regions[c] = new MappedByteBuffer[((n - 1) >>> REGION_SHIFT) + 1];
        for (int r = 0; r < regions[c].length; r++) {
          long first = (long) r << REGION_SHIFT;
          long records = Math.min(n - first, 1L << REGION_SHIFT);
          regions[c][r] = ch[c].map(FileChannel.MapMode.READ_ONLY, (from - 1 + first) * 8, records * 8);
          regions[c][r].order(ByteOrder.LITTLE_ENDIAN);
        }
      }
    } finally {
      close(ch);   // a mapping outlives its channel
    }
    return new Columns() {
      private static final int MASK = (1 << REGION_SHIFT) - 1;

      @Override public int size() {
        return n;
      }

      @Override public long step(int i) {
        return from + i;
      }

      @Override public double loss(int i) {
        return regions[0][i >>> REGION_SHIFT].getDouble((i & MASK) << 3);
      }

      @Override public double lr(int i) {
        return regions[1][i >>> REGION_SHIFT].getDouble((i & MASK) << 3);
      }

      @Override public double gradNorm(int i) {
        return regions[2][i >>> REGION_SHIFT].getDouble((i & MASK) << 3);
      }

      @Override public long t(int i) {
        return regions[T][i >>> REGION_SHIFT].getLong((i & MASK) << 3);
      }
    };
  }

  private static FileChannel[] channels(Path dir, StandardOpenOption... mode) throws IOException {
    FileChannel[] ch = new FileChannel[FILES.length];
    try {
      for (int c = 0; c < FILES.length; c++) ch[c] = FileChannel.open(dir.resolve(FILES[c]), mode);
      return ch;
    } catch (IOException e) {
      close(ch);
      throw e;
    }
  }

  private static void close(FileChannel[] ch) {
    for (FileChannel c : ch) {
      try {
        if (c != null) c.close();
      } catch (IOException ignored) {
        // read-only or already forced: nothing is lost
      }
    }
  }
}
