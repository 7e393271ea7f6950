package io.losswatch.history;

import io.losswatch.event.StepBatch;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One run's steps on disk, one file per column of little-endian 8-byte values ({@code step.i64},
 * {@code loss.f64}, {@code lr.f64}, {@code grad_norm.f64}, {@code t.i64}), a record per step. Steps only grow,
 * but need not be consecutive (a training script may log every k steps). Columns keep range scans cheap:
 * downsampling reads the loss file alone, and {@link Blocks} spares it even that for long runs. An external run's
 * extra scalars (val_loss, acc, …) get a column each, {@code metric.<name>.f64}, NaN where a step has none; so does
 * the curvature, {@code sharpness.f64} and {@code stability.f64}, from the first step measured on (NaN before it
 * and between measurements): a run that measures none pays nothing for them.
 *
 * <p>The files only ever hold whole records shared by all columns: opening cuts a tail torn by a kill, or
 * zero-filled by a power cut (no step has time 0), and a failed append cuts back what it wrote. So a full disk
 * costs the steps not yet written, never the ones before them, and writing resumes where it stopped.
 *
 * <p>Holds no file handle while idle: the writer's channels are open from the first append until
 * {@link #closeWriter()} (a run's end), and each read opens, maps and closes. One thread appends; any thread
 * reads what {@link #count()} covers.
 */
public final class StepLog {
  private static final String[] FILES = {"loss.f64", "lr.f64", "grad_norm.f64", "t.i64", "step.i64"};
  private static final int LOSS = 0;
  private static final int T = 3;
  private static final int STEP = 4;
  /** Records per mapped region: a region must stay under 2 GiB, so a run of any length can be read. */
  private static final int REGION_SHIFT = 24;
  private static final int BUFFER_RECORDS = 8192;
  /** The curvature's columns, written once a step is measured. */
  private static final String[] CURVATURE = {"sharpness.f64", "stability.f64"};
  /** The extra scalars' names, one a line, in the order they first came: a CSV's columns keep it across restarts. */
  static final String ORDER = "metrics.txt";
  /** A new column is NaN-filled under this suffix, and takes its name only once whole. */
  private static final String NEW = ".new";
  private final Path dir;
  private volatile long count;
  private volatile long lastStep;
  private long forced;
  private Blocks partial;         // the block being filled: its extremes so far
  private volatile List<String> metrics;   // the extra scalars' names, in the order they came
  private volatile boolean curvature;      // whether the curvature's columns exist
  private FileChannel[] curvatureWriters;  // open with the writer, once they exist
  private FileChannel[] writer;   // the columns, then the blocks; null while closed
  private final Map<String, FileChannel> metricWriters = new HashMap<>();
  private ByteBuffer buffer;
  private final boolean view;     // another process's log, read as it stands: it takes no append

  private StepLog(Path dir, long count, long lastStep, Blocks partial, List<String> metrics, boolean curvature) {
    this.view = partial == null;
    this.dir = dir;
    this.count = count;
    this.lastStep = lastStep;
    this.forced = count;
    this.partial = partial;
    this.metrics = metrics;
    this.curvature = curvature;
  }

  /** Opens (creating if need be) the log in {@code dir}, cut back to its last whole, non-zero record. */
  public static StepLog open(Path dir) throws IOException {
    Files.createDirectories(dir);
    numberSteps(dir);
    FileChannel[] ch = channels(dir, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    try {
      List<Path> files = files(dir);
      long whole = whole(ch, files);
      for (FileChannel c : ch) if (c.size() != whole * 8) c.truncate(whole * 8);
      long last = whole == 0 ? 0 : readLong(ch[STEP], whole - 1);
      return new StepLog(dir, whole, last, repairBlocks(dir, ch, whole), repairMetrics(dir, files, whole),
          repairCurvature(dir, whole));
    } finally {
      close(ch);
    }
  }

  /**
   * A log another process wrote, read as it stands without changing a byte (a run whose node left the cluster, in the
   * data folder the nodes share): its whole records, those every column holds up to the last whose time is not 0.
   * Reads use the columns only (the block summaries' file may be torn); it takes no append.
   */
  public static StepLog view(Path dir) throws IOException {
    FileChannel[] ch = channels(dir, StandardOpenOption.READ);
    try {
      List<Path> files = files(dir);
      long whole = whole(ch, files);
      List<String> names = new ArrayList<>();
      for (Path f : files) {
        String name = metricName(f.getFileName().toString());
        if (name != null) names.add(name);
      }
      boolean measured = Files.exists(dir.resolve(CURVATURE[0])) && Files.exists(dir.resolve(CURVATURE[1]));
      return new StepLog(dir, whole, whole == 0 ? 0 : readLong(ch[STEP], whole - 1), null, List.copyOf(names),
          measured);
    } finally {
      close(ch);
    }
  }

  /**
   * The whole records: those every column holds — the extra scalars' and the curvature's too, which an append
   * writes after the others (a kill between them left a measured step's stability unwritten, and NaN-filling it
   * lost the value) — up to the last whose time is not 0.
   */
  private static long whole(FileChannel[] columns, List<Path> files) throws IOException {
    long whole = Long.MAX_VALUE;
    for (FileChannel c : columns) whole = Math.min(whole, c.size() / 8);
    for (Path f : files) {
      String n = f.getFileName().toString();
      if (metricName(n) != null || List.of(CURVATURE).contains(n)) whole = Math.min(whole, Files.size(f) / 8);
    }
    return lastNonZero(columns[T], whole);
  }

  /** The log's files, by name. */
  private static List<Path> files(Path dir) throws IOException {
    try (var files = Files.list(dir)) {
      return files.sorted().toList();
    }
  }

  /**
   * A metric's column file: {@code metric.<name>.f64}, its name's {@code /} written {@code %2F} (a name such as
   * {@code train/loss} is one file, not a folder; names have no {@code %}, so the file names are read back exactly).
   */
  private static Path metricFile(Path dir, String name) {
    return dir.resolve("metric." + name.replace("/", "%2F") + ".f64");
  }

  /** The metric a column file holds, or null when the file is no metric's column. */
  private static String metricName(String file) {
    if (!file.startsWith("metric.") || !file.endsWith(".f64") || file.length() <= 11) return null;
    return file.substring(7, file.length() - 4).replace("%2F", "/");
  }

  /**
   * The extra scalars' columns, each cut back to exactly {@code records} long ({@link #whole} counted them). In the order they first came ({@link #ORDER}); a column it does not list (a log from before it) comes
   * after, by name. A new column that a kill left half-filled is gone: it had no step of its own yet.
   */
  private static List<String> repairMetrics(Path dir, List<Path> files, long records) throws IOException {
    List<String> names = new ArrayList<>();
    Path order = dir.resolve(ORDER);
    if (Files.exists(order)) {
      for (String n : Files.readAllLines(order, StandardCharsets.UTF_8)) {
        if (!n.isEmpty() && !names.contains(n) && Files.exists(metricFile(dir, n))) names.add(n);
      }
    }
    for (Path f : files) {
      String n = f.getFileName().toString();
      String name = metricName(n);
      if (name != null && !names.contains(name)) names.add(name);
      if (n.startsWith("metric.") && n.endsWith(".f64" + NEW)) Files.delete(f);   // a new column a kill cut short
    }
    for (String name : names) {
      try (FileChannel ch = FileChannel.open(metricFile(dir, name), StandardOpenOption.WRITE)) {
        ch.truncate(records * 8);
      }
    }
    return List.copyOf(names);
  }

  /**
   * The curvature's columns, when they exist, made exactly {@code records} long as the metrics' are (the second one
   * NaN, when a kill came between making the first and it: nothing was measured into either yet).
   */
  private static boolean repairCurvature(Path dir, long records) throws IOException {
    if (!Files.exists(dir.resolve(CURVATURE[0])) && !Files.exists(dir.resolve(CURVATURE[1]))) return false;
    for (String file : CURVATURE) {
      try (FileChannel ch = FileChannel.open(dir.resolve(file), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
        if (ch.size() > records * 8) ch.truncate(records * 8);
        else nanFill(ch, ch.size() / 8, records);
      }
    }
    return true;
  }

  /** Writes NaN into records [{@code from}, {@code to}) of a column. */
  private static void nanFill(FileChannel ch, long from, long to) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(BUFFER_RECORDS * 8).order(ByteOrder.LITTLE_ENDIAN);
    while (b.hasRemaining()) b.putDouble(Double.NaN);
    for (long r = from; r < to; ) {
      int n = (int) Math.min(to - r, BUFFER_RECORDS);
      b.clear().limit(n * 8);
      for (long p = r * 8; b.hasRemaining(); ) p += ch.write(b, p);
      r += n;
    }
  }

  /** The extra scalars' names, in the order they first came. */
  public List<String> metrics() {
    return metrics;
  }

  /** A log written before steps had a column numbered them 1, 2, … : it gets that column. */
  private static void numberSteps(Path dir) throws IOException {
    Path steps = dir.resolve(FILES[STEP]);
    if (Files.exists(steps) || !Files.exists(dir.resolve(FILES[T]))) return;
    long n = Files.size(dir.resolve(FILES[T])) / 8;
    Path tmp = dir.resolve(FILES[STEP] + ".tmp");
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer b = ByteBuffer.allocate(BUFFER_RECORDS * 8).order(ByteOrder.LITTLE_ENDIAN);
      for (long s = 1; s <= n; ) {
        b.clear();
        for (int i = 0; i < BUFFER_RECORDS && s <= n; i++) b.putLong(s++);
        b.flip();
        while (b.hasRemaining()) ch.write(b);
      }
      ch.force(true);
    }
    Files.move(tmp, steps, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
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

  /**
   * Makes {@code loss.blocks} hold exactly the whole blocks of the first {@code records} records: entries that a
   * kill or a power cut left torn or zero-filled (or a log from before blocks) are rebuilt from the columns.
   * Returns the partial block after them.
   */
  private static Blocks repairBlocks(Path dir, FileChannel[] columns, long records) throws IOException {
    long need = records / Blocks.SIZE;
    try (FileChannel blocks = FileChannel.open(dir.resolve(Blocks.FILE), StandardOpenOption.CREATE,
        StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      long have = Math.min(need, blocks.size() / Blocks.RECORD);
      ByteBuffer b = ByteBuffer.allocate(BUFFER_RECORDS * Blocks.RECORD).order(ByteOrder.LITTLE_ENDIAN);
      for (long j = 0; j < have; ) {   // the first record that is not its block's, and all after it, are rebuilt
        int n = (int) Math.min(have - j, BUFFER_RECORDS);
        read(blocks, b.clear().limit(n * Blocks.RECORD), j * Blocks.RECORD);
        int ok = 0;
        while (ok < n && Blocks.valid(b, ok * Blocks.RECORD)) ok++;
        if (ok < n) have = j + ok;
        j += n;
      }
      blocks.truncate(have * Blocks.RECORD);
      Blocks partial = new Blocks();
      ByteBuffer out = ByteBuffer.allocate(Blocks.RECORD).order(ByteOrder.LITTLE_ENDIAN);
      ByteBuffer[] in = new ByteBuffer[FILES.length];
      for (int c = 0; c < in.length; c++) in[c] = ByteBuffer.allocate(BUFFER_RECORDS * 8).order(ByteOrder.LITTLE_ENDIAN);
      for (long r = have * Blocks.SIZE; r < records; ) {
        int n = (int) Math.min(records - r, BUFFER_RECORDS);
        for (int c = 0; c < in.length; c++) read(columns[c], in[c].clear().limit(n * 8), r * 8);
        for (int i = 0; i < n; i++, r++) {
          int at = i * 8;
          if (partial.add(in[STEP].getLong(at), in[LOSS].getDouble(at), in[1].getDouble(at), in[2].getDouble(at),
              in[T].getLong(at))) {
            partial.write(out.clear());
            blocks.write(out.flip(), (r / Blocks.SIZE) * Blocks.RECORD);
          }
        }
      }
      return partial;
    }
  }

  private static void read(FileChannel ch, ByteBuffer b, long pos) throws IOException {
    while (b.hasRemaining() && ch.read(b, pos + b.position()) >= 0) { }
  }

  private static long readLong(FileChannel ch, long record) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    read(ch, b, record * 8);
    return b.getLong(0);
  }

  public Path dir() {
    return dir;
  }

  /** Records (steps) on disk. */
  public long count() {
    return count;
  }

  /** The last step on disk, 0 when there is none. */
  public long lastStep() {
    return lastStep;
  }

  /**
   * Appends the steps of {@code b} after {@link #lastStep()} and returns the new count. Steps already on disk
   * are skipped, so a batch retried after a failure is never written twice. A failed write cuts every column
   * back to the last whole record and rethrows.
   */
  public synchronized long append(StepBatch b) throws IOException {
    if (view) throw new IllegalStateException("a view of " + dir + " takes no steps");
    if (b.size() == 0 || b.lastStep() <= lastStep) return count;
    int first = 0;
    while (b.step()[first] <= lastStep) first++;
    if (writer == null) {
      writer = java.util.Arrays.copyOf(channels(dir, StandardOpenOption.CREATE, StandardOpenOption.WRITE), FILES.length + 1);
      writer[FILES.length] = FileChannel.open(dir.resolve(Blocks.FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      buffer = ByteBuffer.allocate(BUFFER_RECORDS * 8).order(ByteOrder.LITTLE_ENDIAN);
    }
    long blocksBefore = count / Blocks.SIZE;
    Blocks next = partial.copy();
    ByteBuffer records = ByteBuffer.allocate(((b.size() - first) / Blocks.SIZE + 1) * Blocks.RECORD)
        .order(ByteOrder.LITTLE_ENDIAN);
    for (int i = first; i < b.size(); i++) {
      if (next.add(b.step()[i], b.loss()[i], b.lr()[i], b.gradNorm()[i], b.t()[i])) next.write(records);
    }
    try {
      for (int from = first; from < b.size(); from += BUFFER_RECORDS) {
        int to = Math.min(b.size(), from + BUFFER_RECORDS);
        long pos = (count + from - first) * 8;
        for (int c = 0; c < FILES.length; c++) {
          ByteBuffer buf = buffer.clear();
          for (int i = from; i < to; i++) {
            switch (c) {
              case LOSS -> buf.putDouble(b.loss()[i]);
              case 1 -> buf.putDouble(b.lr()[i]);
              case 2 -> buf.putDouble(b.gradNorm()[i]);
              case T -> buf.putLong(b.t()[i]);
              default -> buf.putLong(b.step()[i]);
            }
          }
          buf.flip();
          for (long p = pos; buf.hasRemaining(); ) p += writer[c].write(buf, p);
        }
      }
      records.flip();
      for (long p = blocksBefore * Blocks.RECORD; records.hasRemaining(); ) p += writer[FILES.length].write(records, p);
      appendMetrics(b, first);
      appendCurvature(b, first);
    } catch (IOException e) {
      try {
        for (int c = 0; c < FILES.length; c++) writer[c].truncate(count * 8);
        writer[FILES.length].truncate(blocksBefore * Blocks.RECORD);
        for (FileChannel ch : metricWriters.values()) ch.truncate(count * 8);
        if (curvatureWriters != null) for (FileChannel ch : curvatureWriters) ch.truncate(count * 8);
      } catch (IOException again) {
        e.addSuppressed(again);   // the next open cuts the torn tail all the same
      }
      throw e;
    }
    partial = next;
    lastStep = b.lastStep();
    count += b.size() - first;
    return count;
  }

  /** Writes the batch's extra scalars from index {@code first} on; a column the log had but the batch lacks gets NaN. */
  private void appendMetrics(StepBatch b, int first) throws IOException {
    if (b.metrics().isEmpty() && metrics.isEmpty()) return;
    List<String> names = new ArrayList<>(metrics);
    for (String name : b.metrics().keySet()) {
      if (!names.contains(name)) names.add(name);
    }
    for (String name : names) {
      FileChannel ch = metricWriters.get(name);
      if (ch == null) {
        if (!metrics.contains(name)) addColumn(name, names);
        ch = FileChannel.open(metricFile(dir, name), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        metricWriters.put(name, ch);
      }
      double[] v = b.metrics().get(name);
      if (v == null) {
        nanFill(ch, count, count + b.size() - first);
        continue;
      }
      ByteBuffer buf = ByteBuffer.allocate((b.size() - first) * 8).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = first; i < b.size(); i++) buf.putDouble(v[i]);
      buf.flip();
      for (long p = count * 8; buf.hasRemaining(); ) p += ch.write(buf, p);
    }
    if (names.size() != metrics.size()) metrics = List.copyOf(names);
  }

  /** Writes the batch's curvature from index {@code first} on (NaN where it has none), once some step was measured. */
  private void appendCurvature(StepBatch b, int first) throws IOException {
    if (!b.hasCurvature() && !curvature) return;
    if (curvatureWriters == null) {
      // new columns: NaN for the steps before them, as a new metric's (whole, or started over by the next try)
      if (!curvature) for (String file : CURVATURE) nanColumn(dir.resolve(file));
      FileChannel[] w = new FileChannel[CURVATURE.length];
      try {
        for (int c = 0; c < CURVATURE.length; c++) {
          w[c] = FileChannel.open(dir.resolve(CURVATURE[c]), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        }
      } catch (IOException e) {
        close(w);
        throw e;
      }
      curvatureWriters = w;
      curvature = true;
    }
    for (int c = 0; c < CURVATURE.length; c++) {
      double[] v = !b.hasCurvature() ? null : c == 0 ? b.sharpness() : b.stability();
      if (v == null) {
        nanFill(curvatureWriters[c], count, count + b.size() - first);
        continue;
      }
      ByteBuffer buf = ByteBuffer.allocate((b.size() - first) * 8).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = first; i < b.size(); i++) buf.putDouble(v[i]);
      buf.flip();
      for (long p = count * 8; buf.hasRemaining(); ) p += curvatureWriters[c].write(buf, p);
    }
  }

  /** Whether some step of the log had its curvature measured (the columns exist). */
  public boolean curvature() {
    return curvature;
  }

  /**
   * Makes a new column: its name in {@link #ORDER} first, then NaN for every record before it, written aside and
   * renamed once whole. So a full disk or a kill part-way leaves no column that reads 0.0 for the steps before it:
   * the next try starts it over. {@code names}: every column, in order, this one among them.
   */
  private void addColumn(String name, List<String> names) throws IOException {
    Path order = dir.resolve(ORDER);
    List<String> listed = Files.exists(order) ? Files.readAllLines(order, StandardCharsets.UTF_8) : List.of();
    if (!listed.contains(name)) {
      List<String> all = new ArrayList<>(names.subList(0, names.indexOf(name) + 1));
      for (String n : listed) if (!all.contains(n)) all.add(n);
      replace(order, (String.join("\n", all) + "\n").getBytes(StandardCharsets.UTF_8));
    }
    nanColumn(metricFile(dir, name));
  }

  /** Makes {@code file} a column of NaN for every record so far: written aside, renamed once whole. */
  private void nanColumn(Path file) throws IOException {
    Path fresh = file.resolveSibling(file.getFileName() + NEW);
    try (FileChannel ch = FileChannel.open(fresh, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      nanFill(ch, 0, count);
      ch.force(false);
      Files.move(fresh, file, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      try {
        Files.deleteIfExists(fresh);   // the space it took is the disk's again
      } catch (IOException again) {
        e.addSuppressed(again);
      }
      throw e;
    }
  }

  /** Replaces {@code file} with {@code bytes} whole, durably: written aside, forced, renamed. */
  private static void replace(Path file, byte[] bytes) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + NEW);
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer b = ByteBuffer.wrap(bytes);
      while (b.hasRemaining()) ch.write(b);
      ch.force(false);
    } catch (IOException e) {
      Files.deleteIfExists(tmp);
      throw e;
    }
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
  }

  /** Makes every appended step durable (fsync); nothing to do when nothing was appended since the last time. */
  public synchronized void force() throws IOException {
    if (writer == null || forced == count) return;
    for (FileChannel c : writer) c.force(false);
    for (FileChannel c : metricWriters.values()) c.force(false);
    if (curvatureWriters != null) for (FileChannel c : curvatureWriters) c.force(false);
    forced = count;
  }

  /**
   * Cuts the log back to its steps up to {@code step} (a guard's rewind): every column, the extra scalars and the
   * block summaries, durably. Appends go on after it.
   */
  public synchronized void cutAfter(long step) throws IOException {
    if (view) throw new IllegalStateException("a view of " + dir + " is not cut");
    long records = find(step + 1, count);
    if (records == count) return;
    closeWriter();
    FileChannel[] ch = channels(dir, StandardOpenOption.READ, StandardOpenOption.WRITE);
    try {
      for (FileChannel c : ch) {
        c.truncate(records * 8);
        c.force(true);
      }
      for (String name : metrics) {
        try (FileChannel m = FileChannel.open(metricFile(dir, name), StandardOpenOption.WRITE)) {
          m.truncate(records * 8);
        }
      }
      if (curvature) {
        for (String file : CURVATURE) {
          try (FileChannel m = FileChannel.open(dir.resolve(file), StandardOpenOption.WRITE)) {
            m.truncate(records * 8);
          }
        }
      }
      partial = repairBlocks(dir, ch, records);
      lastStep = records == 0 ? 0 : readLong(ch[STEP], records - 1);
    } finally {
      close(ch);
    }
    count = records;
    forced = records;
  }

  /** Forces and closes the writer's files (the run ended); a later append opens them again. */
  public synchronized void closeWriter() throws IOException {
    if (writer == null) return;
    try {
      force();
    } finally {
      close(writer);
      close(metricWriters.values().toArray(new FileChannel[0]));
      metricWriters.clear();
      if (curvatureWriters != null) close(curvatureWriters);
      curvatureWriters = null;
      writer = null;
      buffer = null;
    }
  }

  /** The whole blocks' loss extremes on disk now (at least those of the records {@link #count()} covered before). */
  Blocks.View blocks() throws IOException {
    long n = view ? 0 : count / Blocks.SIZE;
    if (n == 0) return new Blocks.View(ByteBuffer.allocate(0), 0);
    try (FileChannel ch = FileChannel.open(dir.resolve(Blocks.FILE), StandardOpenOption.READ)) {
      ByteBuffer m = ch.map(FileChannel.MapMode.READ_ONLY, 0, n * Blocks.RECORD).order(ByteOrder.LITTLE_ENDIAN);
      return new Blocks.View(m, n);
    }
  }

  /** Records [{@code from}, {@code to}) (0-based, within {@link #count()}), mapped read-only. */
  public Columns map(long from, long to) throws IOException {
    int n = Math.toIntExact(to - from);
    if (n == 0) return Columns.EMPTY;
    List<String> names = metrics;
    boolean measured = curvature;
    int curv = FILES.length + names.size();   // the curvature's regions, after the metrics'
    MappedByteBuffer[][] regions = new MappedByteBuffer[curv + (measured ? CURVATURE.length : 0)][];
    FileChannel[] ch = new FileChannel[regions.length];
    try {
      System.arraycopy(channels(dir, StandardOpenOption.READ), 0, ch, 0, FILES.length);
      for (int k = 0; k < names.size(); k++) ch[FILES.length + k] = FileChannel.open(metricFile(dir, names.get(k)), StandardOpenOption.READ);
      if (measured) {
        for (int c = 0; c < CURVATURE.length; c++) ch[curv + c] = FileChannel.open(dir.resolve(CURVATURE[c]), StandardOpenOption.READ);
      }
      for (int c = 0; c < regions.length; c++) {
        regions[c] = new MappedByteBuffer[((n - 1) >>> REGION_SHIFT) + 1];
        for (int r = 0; r < regions[c].length; r++) {
          long first = (long) r << REGION_SHIFT;
          long records = Math.min(n - first, 1L << REGION_SHIFT);
          regions[c][r] = ch[c].map(FileChannel.MapMode.READ_ONLY, (from + first) * 8, records * 8);
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
        return regions[STEP][i >>> REGION_SHIFT].getLong((i & MASK) << 3);
      }

      @Override public double loss(int i) {
        return regions[LOSS][i >>> REGION_SHIFT].getDouble((i & MASK) << 3);
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

      @Override public List<String> metrics() {
        return names;
      }

      @Override public double metric(int k, int i) {
        return regions[FILES.length + k][i >>> REGION_SHIFT].getDouble((i & MASK) << 3);
      }

      @Override public boolean curvature() {
        return measured;
      }

      @Override public double sharpness(int i) {
        return measured ? regions[curv][i >>> REGION_SHIFT].getDouble((i & MASK) << 3) : Double.NaN;
      }

      @Override public double stability(int i) {
        return measured ? regions[curv + 1][i >>> REGION_SHIFT].getDouble((i & MASK) << 3) : Double.NaN;
      }

      @Override public StepBatch slice(String run, int lo, int hi) {
        double[][] extra = new double[names.size()][];
        for (int k = 0; k < extra.length; k++) extra[k] = doubles(FILES.length + k, lo, hi);
        return Columns.batch(run, longs(STEP, lo, hi), doubles(LOSS, lo, hi), doubles(1, lo, hi), doubles(2, lo, hi),
            longs(T, lo, hi), names, extra, measured ? doubles(curv, lo, hi) : null, measured ? doubles(curv + 1, lo, hi) : null);
      }

      /** Column {@code c}'s records [lo, hi), copied in bulk region by region. */
      private double[] doubles(int c, int lo, int hi) {
        double[] out = new double[hi - lo];
        for (int i = lo, end; i < hi; i = end) {
          end = regionEnd(i, hi);
          bytes(c, i, end).asDoubleBuffer().get(out, i - lo, end - i);
        }
        return out;
      }

      private long[] longs(int c, int lo, int hi) {
        long[] out = new long[hi - lo];
        for (int i = lo, end; i < hi; i = end) {
          end = regionEnd(i, hi);
          bytes(c, i, end).asLongBuffer().get(out, i - lo, end - i);
        }
        return out;
      }

      private int regionEnd(int i, int hi) {
        return (int) Math.min(hi, ((long) (i >>> REGION_SHIFT) + 1) << REGION_SHIFT);
      }

      /** Column {@code c}'s records [i, end), within one region. */
      private ByteBuffer bytes(int c, int i, int end) {
        return regions[c][i >>> REGION_SHIFT].slice((i & MASK) << 3, (end - i) << 3).order(ByteOrder.LITTLE_ENDIAN);
      }
    };
  }

  /** The first record whose step is at least {@code step} (within the first {@code records}; that many if none). */
  public long find(long step, long records) throws IOException {
    if (records == 0) return 0;
    try (FileChannel ch = FileChannel.open(dir.resolve(FILES[STEP]), StandardOpenOption.READ)) {
      long lo = 0;
      long hi = records;
      ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      while (lo < hi) {
        long mid = (lo + hi) >>> 1;
        read(ch, b.clear(), mid * 8);
        if (b.getLong(0) < step) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    }
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
