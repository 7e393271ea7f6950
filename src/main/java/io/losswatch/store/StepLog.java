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
  private Blocks partial;         // the block being filled: its extremes so far
  private FileChannel[] writer;   // the columns, then the blocks; null while closed
  private ByteBuffer buffer;

  private StepLog(Path dir, long count, Blocks partial) {
    this.dir = dir;
    this.count = count;
    this.forced = count;
    this.partial = partial;
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
      return new StepLog(dir, whole, repairBlocks(dir, ch[0], whole));
    } finally {
      close(ch);
    }
  }

  /**
   * Makes {@code loss.blocks} hold exactly the whole blocks of the first {@code records} steps: records that a
   * kill or a power cut left torn or zero-filled (or a log from before blocks) are rebuilt from the loss column.
   * Returns the partial block after them.
   */
  private static Blocks repairBlocks(Path dir, FileChannel loss, long records) throws IOException {
    long need = records / Blocks.SIZE;
    try (FileChannel blocks = FileChannel.open(dir.resolve(Blocks.FILE), StandardOpenOption.CREATE,
        StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      long have = Math.min(need, blocks.size() / Blocks.RECORD);
      ByteBuffer b = ByteBuffer.allocate(BUFFER_RECORDS * Blocks.RECORD).order(ByteOrder.LITTLE_ENDIAN);
      for (long j = 0; j < have; ) {   // the first record that is not its block's, and all after it, are rebuilt
        int n = (int) Math.min(have - j, BUFFER_RECORDS);
        read(blocks, b.clear().limit(n * Blocks.RECORD), j * Blocks.RECORD);
        int ok = 0;
        while (ok < n && Blocks.valid(b, ok * Blocks.RECORD, j + ok)) ok++;
        if (ok < n) have = j + ok;
        j += n;
      }
      blocks.truncate(have * Blocks.RECORD);
      Blocks partial = new Blocks();
      ByteBuffer out = ByteBuffer.allocate(Blocks.RECORD).order(ByteOrder.LITTLE_ENDIAN);
      ByteBuffer in = ByteBuffer.allocate(BUFFER_RECORDS * 8).order(ByteOrder.LITTLE_ENDIAN);
      for (long step = have * Blocks.SIZE + 1; step <= records; ) {
        int n = (int) Math.min(records - step + 1, BUFFER_RECORDS);
        read(loss, in.clear().limit(n * 8), (step - 1) * 8);
        for (int i = 0; i < n; i++, step++) {
          if (partial.add(step, in.getDouble(i * 8))) {
            partial.write(out.clear());
            blocks.write(out.flip(), (step / Blocks.SIZE - 1) * Blocks.RECORD);
          }
        }
      }
      return partial;
    }
  }

  private static void read(FileChannel ch, ByteBuffer b, long pos) throws IOException {
    while (b.hasRemaining() && ch.read(b, pos + b.position()) >= 0) { }
  }

  /** The number of records up to the last one whose time is not 0: what a power cut zero-filled is not a step. */
  private static long lastNonZero(FileChannel t, long records) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(BUFFER_RECORDS * 8).order(ByteOrder.LITTLE_ENDIAN);
    while (records > 0) {
      int n = (int) Math.min(records, BUFFER_RECORDS);
      read(t, b.clear().limit(n * 8), (records - n) * 8);
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
      writer = java.util.Arrays.copyOf(channels(dir, StandardOpenOption.CREATE, StandardOpenOption.WRITE), FILES.length + 1);
      writer[FILES.length] = FileChannel.open(dir.resolve(Blocks.FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      buffer = ByteBuffer.allocate(BUFFER_RECORDS * 8).order(ByteOrder.LITTLE_ENDIAN);
    }
    int first = (int) (count + 1 - b.firstStep());
    long blocksBefore = count / Blocks.SIZE;
    Blocks next = partial.copy();
    ByteBuffer records = ByteBuffer.allocate(((b.size() - first) / Blocks.SIZE + 1) * Blocks.RECORD)
        .order(ByteOrder.LITTLE_ENDIAN);
    for (int i = first; i < b.size(); i++) if (next.add(b.step()[i], b.loss()[i])) next.write(records);
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
      records.flip();
      for (long p = blocksBefore * Blocks.RECORD; records.hasRemaining(); ) p += writer[FILES.length].write(records, p);
    } catch (IOException e) {
      try {
        for (int c = 0; c < FILES.length; c++) writer[c].truncate(count * 8);
        writer[FILES.length].truncate(blocksBefore * Blocks.RECORD);
      } catch (IOException again) {
        e.addSuppressed(again);   // the next open cuts the torn tail all the same
      }
      throw e;
    }
    partial = next;
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

  /** The whole blocks' loss extremes on disk now (at least those of the steps {@link #count()} covered before). */
  Blocks.View blocks() throws IOException {
    long n = count / Blocks.SIZE;
    if (n == 0) return new Blocks.View(ByteBuffer.allocate(0), 0);
    try (FileChannel ch = FileChannel.open(dir.resolve(Blocks.FILE), StandardOpenOption.READ)) {
      ByteBuffer m = ch.map(FileChannel.MapMode.READ_ONLY, 0, n * Blocks.RECORD).order(ByteOrder.LITTLE_ENDIAN);
      return new Blocks.View(m, n);
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
