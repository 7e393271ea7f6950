package io.losswatch.history;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.event.StepBatch;
import java.nio.channels.FileChannel;
import java.util.Arrays;
import java.util.List;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunHistoryTest {
  /** Steps from..to with a smooth loss, a spike at 777 and a NaN at 1234 (when in range). */
  static StepBatch steps(long from, long to) {
    StepBatch.Builder b = new StepBatch.Builder(16);
    for (long s = from; s <= to; s++) {
      double loss = s == 777 ? 1e6 : s == 1234 ? Double.NaN : 1.0 / s;
      b.add(s, loss, 0.01 * s, 2.0 / s, 1_700_000_000_000L + s);
    }
    return b.build("r");
  }

  @Test
  void appendsAndReadsBackExactlyAcrossDiskAndMemory(@TempDir Path dir) throws Exception {
    StepLog log = StepLog.open(dir);
    RunHistory h = new RunHistory("r", log);
    for (long s = 1; s <= 300_000; s += 1000) {
      StepBatch b = steps(s, s + 999);
      h.append(b);
      log.append(b);
      h.persisted(b.lastStep());
    }
    assertEquals(300_000, h.lastStep());
    assertTrue(h.memorySteps() <= 2 * RunHistory.WINDOW + 1000, "memory is bounded: " + h.memorySteps());
    assertTrue(h.memorySteps() <= 2 * RunHistory.WINDOW + 1000, "older steps are read from disk: " + h.memorySteps());
    StepBatch r = h.read(770, 780, 0);
    assertEquals(11, r.size());
    for (int i = 0; i < r.size(); i++) {
      long s = 770 + i;
      assertEquals(s, r.step()[i]);
      assertEquals(s == 777 ? 1e6 : 1.0 / s, r.loss()[i]);
      assertEquals(0.01 * s, r.lr()[i]);
      assertEquals(2.0 / s, r.gradNorm()[i]);
      assertEquals(1_700_000_000_000L + s, r.t()[i]);
    }
    StepBatch across = h.read(250_000, 299_999, 0);   // disk then memory, as one range
    assertEquals(50_000, across.size());
    for (int i = 0; i < across.size(); i++) assertEquals(250_000 + i, across.step()[i]);
    log.closeWriter();
  }

  @Test
  void countCountsRecordsNotTheSpanOfStepNumbers(@TempDir Path dir) throws Exception {
    StepLog log = StepLog.open(dir);
    RunHistory h = new RunHistory("r", log);
    StepBatch.Builder b = new StepBatch.Builder(16);
    for (long s = 1000; s <= 30_000_000; s += 1000) b.add(s, 1, 0.1, 1, 1_700_000_000_000L + s);   // 30,000 records
    StepBatch sparse = b.build("r");
    h.append(sparse);
    log.append(sparse);
    h.persisted(log.count());   // the older ones on disk, the newest in memory
    assertTrue(h.memorySteps() < 30_000, "read across disk and memory: " + h.memorySteps());
    assertEquals(30_000, h.count(1, Long.MAX_VALUE));
    assertEquals(30_000, h.count(1000, 30_000_000));
    assertEquals(1, h.count(1500, 2500));
    assertEquals(0, h.count(1001, 1999));
    assertEquals(4, h.count(29_997_000, 40_000_000));
    log.closeWriter();
  }

  @Test
  void downsamplingKeepsFirstLastSpikeAndNaN(@TempDir Path dir) throws Exception {
    StepLog log = StepLog.open(dir);
    RunHistory h = new RunHistory("r", log);
    StepBatch b = steps(1, 100_000);
    h.append(b);
    log.append(b);
    h.persisted(100_000);
    StepBatch d = h.read(1, 100_000, 400);
    assertTrue(d.size() <= 400, "at most max_points: " + d.size());
    assertEquals(1, d.step()[0]);
    assertEquals(100_000, d.lastStep());
    boolean spike = false;
    boolean nan = false;
    for (int i = 0; i < d.size(); i++) {
      spike |= d.step()[i] == 777 && d.loss()[i] == 1e6;
      nan |= d.step()[i] == 1234 && Double.isNaN(d.loss()[i]);
      if (i > 0) assertTrue(d.step()[i] > d.step()[i - 1], "in step order, no repeats");
    }
    assertTrue(spike, "the spike survives");
    assertTrue(nan, "the NaN survives");
    log.closeWriter();
  }

  @Test
  void aTornTailIsCutBackToTheLastWholeRecord(@TempDir Path dir) throws Exception {
    StepLog log = StepLog.open(dir);
    log.append(steps(1, 100));
    log.closeWriter();
    // a kill mid-write: three bytes of a 101st loss, and the t column one record short
    try (FileChannel ch = FileChannel.open(dir.resolve("loss.f64"), StandardOpenOption.WRITE)) {
      ch.write(java.nio.ByteBuffer.wrap(new byte[] {1, 2, 3}), 800);
    }
    try (FileChannel ch = FileChannel.open(dir.resolve("t.i64"), StandardOpenOption.WRITE)) {
      ch.truncate(99 * 8 + 5);
    }
    StepLog again = StepLog.open(dir);
    assertEquals(99, again.count());
    RunHistory h = new RunHistory("r", again);
    StepBatch r = h.read(1, 1000, 0);
    assertEquals(99, r.size());
    assertEquals(1.0 / 99, r.loss()[98]);
    again.append(steps(100, 110));   // and it goes on from there
    assertEquals(110, again.count());
    again.closeWriter();
  }

  @Test
  void aZeroFilledTailIsNoStepsAndAppendsAreExactlyOnce(@TempDir Path dir) throws Exception {
    StepLog log = StepLog.open(dir);
    log.append(steps(1, 100));
    log.closeWriter();
    // a power cut after the files grew but before their data reached the disk: zeros where records were
    for (String f : new String[] {"loss.f64", "lr.f64", "grad_norm.f64", "t.i64"}) {
      try (FileChannel ch = FileChannel.open(dir.resolve(f), StandardOpenOption.WRITE)) {
        ch.write(java.nio.ByteBuffer.allocate(40 * 8), 100 * 8);
      }
    }
    StepLog again = StepLog.open(dir);
    assertEquals(100, again.count(), "zeros are not steps");
    assertEquals(100, again.append(steps(90, 100)), "steps already on disk are skipped");
    assertEquals(120, again.append(steps(95, 120)), "a retried batch writes only what is new");
    assertEquals(129, again.append(steps(122, 130)), "steps need not be consecutive (a script logs every k)");
    StepBatch r = new RunHistory("r", again).read(1, 200, 0);
    assertEquals(129, r.size());
    for (int i = 0; i < 120; i++) assertEquals(i + 1, r.step()[i]);
    assertEquals(122, r.step()[120]);
    assertEquals(1.0 / 120, r.loss()[119]);
    StepBatch range = new RunHistory("r", again).read(121, 125, 0);
    assertEquals(List.of(122L, 123L, 124L, 125L), Arrays.stream(range.step()).boxed().toList(), "a range over a gap");
    again.closeWriter();
  }

  @Test
  void aLogPastTwoGibibytesPerColumnReadsAcrossTheLimit(@TempDir Path dir) throws Exception {
    // 2^28 + 10 records: each column file is past the 2 GiB one mapping can hold; sparse, so it costs no disk
    long n = (1L << 28) + 10;
    long first = (1L << 28) - 5;
    for (String f : new String[] {"loss.f64", "lr.f64", "grad_norm.f64", "t.i64", "step.i64"}) {
      try (FileChannel ch = FileChannel.open(dir.resolve(f), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate((int) (n - first + 1) * 8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (long s = first; s <= n; s++) {
          if (f.equals("t.i64")) b.putLong(1_700_000_000_000L + s);
          else if (f.equals("step.i64")) b.putLong(s);
          else b.putDouble(s);
        }
        ch.write(b.flip(), (first - 1) * 8);
      }
    }
    // and the blocks' summaries, as written along (no step has time 0: a summary of zeros would be rebuilt)
    try (FileChannel ch = FileChannel.open(dir.resolve("loss.blocks"), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      java.nio.ByteBuffer entry = java.nio.ByteBuffer.allocate(Blocks.RECORD).order(java.nio.ByteOrder.LITTLE_ENDIAN);
      for (int k = 0; k < 4; k++) entry.putLong(k * 40 + 32, 1);
      java.nio.ByteBuffer many = java.nio.ByteBuffer.allocate(Blocks.RECORD * 4096);
      while (many.hasRemaining()) many.put(entry.duplicate().clear());
      for (long j = 0; j < n / Blocks.SIZE; j += 4096) {
        int count = (int) Math.min(4096, n / Blocks.SIZE - j);
        ch.write(many.clear().limit(count * Blocks.RECORD), j * Blocks.RECORD);
      }
    }
    StepLog log = StepLog.open(dir);
    assertEquals(n, log.count());
    StepBatch r = new RunHistory("r", log).read(first, n, 0);
    assertEquals(n - first + 1, r.size());
    for (int i = 0; i < r.size(); i++) {
      assertEquals(first + i, r.step()[i]);
      assertEquals((double) (first + i), r.loss()[i]);
      assertEquals(1_700_000_000_000L + first + i, r.t()[i]);
    }
    assertEquals(n + 1, log.append(steps(n + 1, n + 1)), "and it goes on past the limit");
    log.closeWriter();
  }

  @Test
  void anOverviewOfALongLogReadsBlocksAndKeepsEveryExtreme(@TempDir Path dir) throws Exception {
    // 3M steps of noise, with 60 spikes, 60 dips and a NaN planted a bucket or more apart: each is its bucket's
    // extreme, so each must be in a 2,000-point overview, read from the blocks' records
    int n = 3_000_000;
    java.util.SplittableRandom random = new java.util.SplittableRandom(7);
    java.util.Map<Long, Double> planted = new java.util.HashMap<>();
    for (int k = 0; k < 121; k++) {
      long step = 10_000 + k * 24_000L + random.nextInt(10_000);
      planted.put(step, k == 60 ? Double.NaN : k % 2 == 0 ? 1e6 + k : -1e6 - k);
    }
    StepLog log = StepLog.open(dir);
    StepBatch.Builder b = new StepBatch.Builder(65_536);
    for (long s = 1; s <= n; s++) {
      b.add(s, planted.getOrDefault(s, random.nextDouble()), 0.01, 1, 1_700_000_000_000L + s);
      if (b.size() == 65_536 || s == n) log.append(b.build("r"));
    }
    RunHistory h = new RunHistory("r", log);
    StepBatch d = h.read(1, n, 2000);
    assertTrue(d.size() <= 2000, "at most max_points: " + d.size());
    assertEquals(1, d.step()[0]);
    assertEquals(n, d.lastStep());
    java.util.Map<Long, Double> got = new java.util.HashMap<>();
    for (int i = 0; i < d.size(); i++) {
      if (i > 0) assertTrue(d.step()[i] > d.step()[i - 1], "in step order, no repeats");
      got.put(d.step()[i], d.loss()[i]);
    }
    for (var e : planted.entrySet()) {
      assertEquals(e.getValue(), got.get(e.getKey()), "the extreme at step " + e.getKey() + " is in the overview");
    }
    // and after a restart, from blocks rebuilt out of the loss column (a log from before blocks)
    log.closeWriter();
    java.nio.file.Files.delete(dir.resolve("loss.blocks"));
    StepBatch again = new RunHistory("r", StepLog.open(dir)).read(1, n, 2000);
    assertEquals(java.util.Arrays.toString(d.step()), java.util.Arrays.toString(again.step()));
  }

  /** Steps {@code from}..{@code to}, each {@code every}-th measured: sharpness = step, stability = step / 1000. */
  static StepBatch measured(long from, long to, int every) {
    StepBatch.Builder b = new StepBatch.Builder(16);
    for (long s = from; s <= to; s++) {
      b.add(s, 1.0 / s, 0.1, 1, 1_000 + s);
      b.curvature(s % every == 0 ? s : Double.NaN, s % every == 0 ? s / 1000.0 : Double.NaN);
    }
    return b.build("r");
  }

  @Test
  void curvatureColumnsStartAtTheFirstMeasurementAndSurviveDiskMemoryCutsAndReopening(@TempDir Path dir) throws Exception {
    StepLog log = StepLog.open(dir);
    RunHistory h = new RunHistory("r", log);
    StepBatch before = steps(1, 100);   // nothing measured: no columns yet
    h.append(before);
    log.append(before);
    assertTrue(!log.curvature() && !java.nio.file.Files.exists(dir.resolve("sharpness.f64")));
    StepBatch after = measured(101, 10_000, 50);
    h.append(after);
    log.append(after);
    h.persisted(log.count());
    h.append(measured(10_001, 10_100, 50));   // in memory only
    assertTrue(h.curvature() && log.curvature());
    StepBatch all = h.read(1, 10_100, 0);
    for (int i = 0; i < all.size(); i++) {
      long s = all.step()[i];
      boolean m = s > 100 && s % 50 == 0;
      assertEquals(m ? s : Double.NaN, all.sharpness()[i], "step " + s);
      assertEquals(m ? s / 1000.0 : Double.NaN, all.stability()[i], "step " + s);
    }
    // an overview of 100 points keeps each bucket's last measurement (20 buckets of 5 points)
    StepBatch overview = h.read(1, 10_100, 100);
    assertTrue(overview.size() <= 100, overview.size() + " points");
    long kept = Arrays.stream(overview.sharpness()).filter(v -> !Double.isNaN(v)).count();
    assertTrue(kept >= 19, kept + " measurements in the overview");
    // a torn tail and a rewind cut every column alike; reopened, the columns are as long as the log
    log.cutAfter(5_000);
    log.closeWriter();
    try (FileChannel ch = FileChannel.open(dir.resolve("sharpness.f64"), StandardOpenOption.WRITE)) {
      ch.write(java.nio.ByteBuffer.wrap(new byte[] {1, 2, 3}), ch.size());
    }
    StepLog again = StepLog.open(dir);
    assertEquals(5_000, again.count());
    assertEquals(5_000L * 8, java.nio.file.Files.size(dir.resolve("sharpness.f64")));
    Columns c = again.map(0, again.count());
    assertTrue(c.curvature());
    assertEquals(5_000.0, c.sharpness(4_999));
    assertTrue(Double.isNaN(c.sharpness(4_998)) && Double.isNaN(c.sharpness(49)));
    again.append(steps(5_001, 5_010));   // a batch without the columns: NaN in them
    assertEquals(5_010L * 8, java.nio.file.Files.size(dir.resolve("stability.f64")));
    again.closeWriter();
  }

  /**
   * An append writes the curvature after the other columns: a kill between them left a measured step's stability
   * unwritten, and reopening NaN-filled it (DurabilityIT found step 312,000's stability NaN after a kill -9). The
   * torn steps go (they are the unwritten window's), the values before them stay exact.
   */
  @Test
  void aKillBetweenTheColumnsAndTheCurvatureCostsTheTornStepsNotAMeasurement(@TempDir Path dir) throws Exception {
    StepLog log = StepLog.open(dir);
    log.append(measured(1, 1_000, 50));
    log.append(measured(1_001, 1_100, 50));
    log.closeWriter();
    try (FileChannel ch = FileChannel.open(dir.resolve("stability.f64"), StandardOpenOption.WRITE)) {
      ch.truncate(1_000 * 8);   // the second batch's stability never written
    }
    StepLog again = StepLog.open(dir);
    assertEquals(1_000, again.count());
    assertEquals(1_000, again.lastStep());
    Columns c = again.map(0, again.count());
    assertEquals(1_000.0, c.sharpness(999));
    assertEquals(1.0, c.stability(999));
    for (String file : List.of("loss.f64", "sharpness.f64", "stability.f64")) {
      assertEquals(1_000L * 8, java.nio.file.Files.size(dir.resolve(file)), file);
    }
    again.append(measured(1_001, 1_100, 50));   // and it goes on from there
    assertEquals(1.1, again.map(0, again.count()).stability(1_099));
    again.closeWriter();
  }

  /**
   * A guard's rewind to step 0 leaves memory empty while the log still ends at the undone steps (the store cuts it
   * after): the run's last step is the one it went back to, so the new cycle's steps 1, 2, … are taken, not dropped
   * as steps the run already has (issue 20: a rewind to 0 lost the new cycle's first steps).
   */
  @Test
  void aRewindToTheStartLeavesTheStepItWentBackToLast(@TempDir Path dir) throws Exception {
    StepLog log = StepLog.open(dir);
    RunHistory h = new RunHistory("r", log);
    StepBatch b = steps(1, 43);
    h.append(b);
    log.append(b);
    h.persisted(log.count());
    StepBatch gone = h.rewind(0, 1);
    assertEquals(43, gone.size());
    assertEquals(43, log.lastStep(), "the store has not cut the log yet");
    assertEquals(0, h.lastStep(), "the run went back to step 0");
    log.cutAfter(0);
    assertEquals(0, h.lastStep());
    StepBatch again = steps(1, 7);
    h.append(again);
    assertEquals(7, h.lastStep());
    log.closeWriter();
  }
}
