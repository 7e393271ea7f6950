package io.losswatch.history;

import io.losswatch.event.HistoryRead;
import io.losswatch.event.MetricSummary;
import io.losswatch.event.StepBatch;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every step of one run: a recent window in memory, the rest in the run's {@link StepLog} on disk. Memory
 * stays bounded however long the run goes: it holds the last {@link #WINDOW} steps plus whatever the store
 * has not yet written (the run waits when that reaches {@link #MAX_UNWRITTEN}), and nothing once the run has
 * ended and is all on disk ({@link #release()}). Steps only grow within a cycle; they need not be consecutive.
 *
 * <p>Positions count records: record r is the r-th step the run took (from 0), on disk below the window,
 * in memory from it. The run appends; the store reports how many records it persisted; anyone reads. A reader
 * takes a consistent view of the window under the lock and reads it outside: appends only write past the
 * view's end, and trimming and growth swap in new arrays, so a view never changes under its reader.
 */
public final class RunHistory {
  /** Steps kept in memory once they are on disk: a subscriber's recent history, read without the disk. */
  public static final int WINDOW = 1 << 12;
  /** Steps a run may be ahead of its log: it waits for the store beyond this (backpressure). */
  public static final int MAX_UNWRITTEN = 1 << 14;
  private static final long[] NO_LONGS = {};
  private static final double[] NO_DOUBLES = {};
  private final String run;
  private final StepLog log;   // null: memory only (demo runs)
  private long first;           // the record at index 0 of the window
  private long[] step = NO_LONGS;
  private double[] loss = NO_DOUBLES;
  private double[] lr = NO_DOUBLES;
  private double[] gradNorm = NO_DOUBLES;
  private long[] t = NO_LONGS;
  /** An external run's extra scalars by name, columns as long as the others (NaN where a step has none). */
  private Map<String, double[]> extra = Map.of();
  /** The curvature's columns, null until a step is measured (then NaN where one is not). */
  private double[] sharpness;
  private double[] stability;
  private int n;
  private long persisted;       // records on disk
  private int cycle;
  /**
   * The step a rewind went back to when memory kept none of the steps: the last step until the next is taken (the
   * store cuts the log there after, so until then the log still ends at the undone steps).
   */
  private long wentBackTo = -1;
  private List<StepBatch> abandoned = List.of();
  private final MetricStats stats = new MetricStats();

  /** A history whose older steps live in {@code log}; {@code null} keeps everything in memory. */
  public RunHistory(String run, StepLog log) {
    this.run = run;
    this.log = log;
    if (log != null) {
      persisted = log.count();
      first = persisted;
    }
    stats.reset(persisted == 0 ? 0 : lastStep());
  }

  public StepLog log() {
    return log;
  }

  /** Whether the steps go to disk (demo runs' do not). */
  public boolean persistent() {
    return log != null;
  }

  public synchronized void append(StepBatch b) {
    if (b.size() > 0) wentBackTo = -1;
    if (n + b.size() > step.length) reallocate(0, n + b.size());
    System.arraycopy(b.step(), 0, step, n, b.size());
    System.arraycopy(b.loss(), 0, loss, n, b.size());
    System.arraycopy(b.lr(), 0, lr, n, b.size());
    System.arraycopy(b.gradNorm(), 0, gradNorm, n, b.size());
    System.arraycopy(b.t(), 0, t, n, b.size());
    if (!b.metrics().isEmpty() || !extra.isEmpty()) appendMetrics(b);
    if (b.hasCurvature() || sharpness != null) appendCurvature(b);
    n += b.size();
  }

  private void appendCurvature(StepBatch b) {
    if (sharpness == null) {
      sharpness = nans(step.length);
      stability = nans(step.length);
    }
    if (b.hasCurvature()) {
      System.arraycopy(b.sharpness(), 0, sharpness, n, b.size());
      System.arraycopy(b.stability(), 0, stability, n, b.size());
    } else {
      Arrays.fill(sharpness, n, n + b.size(), Double.NaN);
      Arrays.fill(stability, n, n + b.size(), Double.NaN);
    }
  }

  private static double[] nans(int length) {
    double[] c = new double[length];
    Arrays.fill(c, Double.NaN);
    return c;
  }

  private void appendMetrics(StepBatch b) {
    if (!extra.keySet().containsAll(b.metrics().keySet())) {   // a new name: NaN for the steps before it
      Map<String, double[]> grown = new LinkedHashMap<>(extra);
      for (String name : b.metrics().keySet()) {
        grown.computeIfAbsent(name, k -> {
          double[] c = new double[step.length];
          Arrays.fill(c, Double.NaN);
          return c;
        });
      }
      extra = grown;
    }
    for (Map.Entry<String, double[]> e : extra.entrySet()) {
      double[] v = b.metrics().get(e.getKey());
      if (v == null) Arrays.fill(e.getValue(), n, n + b.size(), Double.NaN);
      else System.arraycopy(v, 0, e.getValue(), n, b.size());
    }
    for (var e : b.metrics().entrySet()) stats.add(e.getKey(), b.step(), e.getValue(), b.size());
  }

  /**
   * The extra scalars' names this run has had, on disk or in memory (at most 64: a run takes no more), in the
   * order they first came: the log's (which outlives a restart), then those memory has and the log not yet.
   */
  public synchronized List<String> metrics() {
    if (log == null) return List.copyOf(extra.keySet());
    List<String> all = new ArrayList<>(log.metrics());
    for (String name : extra.keySet()) if (!all.contains(name)) all.add(name);
    return all;
  }

  /** Whether some step of the run had its curvature measured (on disk or in memory). */
  public synchronized boolean curvature() {
    return sharpness != null || (log != null && log.curvature());
  }

  /** The store has written the first {@code records} records: memory may let go of them beyond the window. */
  public synchronized void persisted(long records) {
    persisted = Math.max(persisted, records);
    long keepFrom = Math.min(persisted, first + n - WINDOW);
    int drop = (int) (keepFrom - first);
    if (drop > WINDOW) reallocate(drop, n - drop);   // in chunks, so trimming stays amortized
  }

  /** Steps taken but not yet on disk: what the run waits on beyond {@link #MAX_UNWRITTEN}. */
  public synchronized long unwritten() {
    return log == null ? 0 : first + n - persisted;
  }

  /** The records the history holds in all (on disk and in memory): the store holds them all once it persisted as many. */
  public synchronized long records() {
    return first + n;
  }

  /** The records the store has written. */
  public synchronized long persisted() {
    return persisted;
  }

  /**
   * How many of {@code steps[0..count)} (increasing, none past the last step) the history holds. Memory tells for the
   * steps it holds and those between them; a step older than memory counts as held.
   */
  public synchronized long held(long[] steps, int count) {
    long held = 0;
    for (int k = 0; k < count; k++) {
      if (n == 0 || steps[k] < step[0]) {
        held++;
      } else {
        int i = lowerBound(step, n, steps[k]);
        if (i < n && step[i] == steps[k]) held++;
      }
    }
    return held;
  }

  /** The lr at step {@code step} when memory holds that step, else NaN. */
  public synchronized double lrAt(long step) {
    int i = lowerBound(this.step, n, step);
    return i < n && this.step[i] == step ? lr[i] : Double.NaN;
  }

  /** Lets go of the memory window once every step is on disk (the run ended): reads go to the log. */
  public synchronized void release() {
    if (log == null || unwritten() > 0) return;
    first += n;
    n = 0;
    step = NO_LONGS;
    loss = NO_DOUBLES;
    lr = NO_DOUBLES;
    gradNorm = NO_DOUBLES;
    t = NO_LONGS;
    extra = Map.of();
    sharpness = stability = null;
  }

  /** Forgets everything and starts the next cycle (a demo run starting over; demo runs have no log). */
  public synchronized void clear() {
    clear(cycle + 1);
  }

  /** Forgets everything and starts cycle {@code c} (a mirror following its owner's run into a new cycle). */
  public synchronized void clear(int c) {
    cycle = c;
    first = 0;
    persisted = 0;
    n = 0;
    reallocate(0, 1024);
    stats.reset(0);
  }

  private void reallocate(int drop, int capacity) {
    int keep = n - drop;
    int c = Math.max(1024, Math.max(capacity, keep * 2));
    step = Arrays.copyOfRange(step, drop, drop + c);
    loss = Arrays.copyOfRange(loss, drop, drop + c);
    lr = Arrays.copyOfRange(lr, drop, drop + c);
    gradNorm = Arrays.copyOfRange(gradNorm, drop, drop + c);
    t = Arrays.copyOfRange(t, drop, drop + c);
    if (!extra.isEmpty()) {
      Map<String, double[]> moved = new LinkedHashMap<>();
      for (Map.Entry<String, double[]> e : extra.entrySet()) moved.put(e.getKey(), Arrays.copyOfRange(e.getValue(), drop, drop + c));
      extra = moved;
    }
    if (sharpness != null) {
      sharpness = Arrays.copyOfRange(sharpness, drop, drop + c);
      stability = Arrays.copyOfRange(stability, drop, drop + c);
      Arrays.fill(sharpness, keep, c, Double.NaN);
      Arrays.fill(stability, keep, c, Double.NaN);
    }
    first += drop;
    n = keep;
  }

  public synchronized int cycle() {
    return cycle;
  }

  /** The first step memory holds (the last step + 1 when it holds none): a rewind can go back to the step before. */
  public synchronized long firstStep() {
    return n > 0 ? step[0] : lastStep() + 1;
  }

  /**
   * Goes back to step {@code to}: the steps after it leave the history (returned, with their extra scalars, and kept
   * apart in {@link #abandoned()}), and cycle {@code newCycle} starts, so every reader takes the run as it now stands.
   * Call it only when every step is on disk: the log is cut back to the same step after it. A step older than memory
   * is found on disk (a script's rewind may go back further than the window).
   */
  public synchronized StepBatch rewind(long to, int newCycle) {
    int at = lowerBound(step, n, to + 1);
    long cut = first + at;   // the records kept
    Columns disk = Columns.EMPTY;
    try {
      if (at == 0 && log != null && first > 0) {
        cut = log.find(to + 1, first);
        disk = log.map(cut, first);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("reading the log of run " + run, e);
    }
    StepBatch.Builder b = new StepBatch.Builder(Math.max(1, disk.size() + n - at));
    for (int i = 0; i < disk.size(); i++) {
      b.add(disk.step(i), disk.loss(i), disk.lr(i), disk.gradNorm(i), disk.t(i));
      for (int k = 0; k < disk.metrics().size(); k++) metric(b, disk.metrics().get(k), disk.metric(k, i));
      if (disk.curvature()) b.curvature(disk.sharpness(i), disk.stability(i));
    }
    for (int i = at; i < n; i++) {
      b.add(step[i], loss[i], lr[i], gradNorm[i], t[i]);
      for (Map.Entry<String, double[]> e : extra.entrySet()) metric(b, e.getKey(), e.getValue()[i]);
      if (sharpness != null) b.curvature(sharpness[i], stability[i]);
    }
    StepBatch gone = b.build(run, cycle);
    if (cut < first) {   // memory held none of what stays: it starts empty at the cut
      first = cut;
      n = 0;
    } else {
      n = at;
    }
    persisted = Math.min(persisted, first + n);
    wentBackTo = n == 0 ? to : -1;
    cycle = newCycle;
    stats.reset(lastStep());   // the extremes of what it undid are gone with it
    abandoned = new ArrayList<>(abandoned);
    abandoned.add(gone);
    return gone;
  }

  /** A step's extra scalar into a batch being built (a NaN leaves it out: the column reads NaN there all the same). */
  private static void metric(StepBatch.Builder b, String name, double v) {
    if (!Double.isNaN(v)) b.metric(name, v);
  }

  /** A restored run's cycle: one per rewind its log went through. */
  public synchronized void cycle(int c) {
    cycle = c;
  }

  /** The stretches rewinds took out, in order. */
  public synchronized List<StepBatch> abandoned() {
    return abandoned;
  }

  /** The stretches a restart found on disk. */
  public synchronized void abandoned(List<StepBatch> stretches) {
    abandoned = List.copyOf(stretches);
  }

  /** The last step, 0 when there is none. */
  public synchronized long lastStep() {
    if (n > 0) return step[n - 1];
    if (log == null) return 0;
    return wentBackTo >= 0 ? Math.min(wentBackTo, log.lastStep()) : log.lastStep();
  }

  /**
   * The step right before {@code step} (steps need not be consecutive), when memory still holds it: 0 when
   * {@code step} is the first, -1 when memory cannot tell.
   */
  public synchronized long stepBefore(long step) {
    int at = lowerBound(this.step, n, step);
    if (at > 0) return this.step[at - 1];
    return first == 0 ? 0 : -1;
  }

  /** The steps held in memory. */
  public synchronized int memorySteps() {
    return n;
  }

  /**
   * Steps {@code from}..{@code to} (inclusive, clipped to what exists), every one, or M4-downsampled to at
   * most {@code maxPoints} when that is positive. Reads the disk when the range starts before the window:
   * it may block, so call it off the event loop.
   */
  public StepBatch read(long from, long to, int maxPoints) {
    return read(from, to, maxPoints, Long.MAX_VALUE);
  }

  /** What {@code q} asks for (it may read the disk: call it off the event loop). */
  public StepBatch read(HistoryRead q) {
    if (q.metrics()) return MetricPoints.join(run, cycle(), metricPoints(q.from(), q.to(), q.maxPoints()));
    if (q.stretch() > 0) {
      List<StepBatch> gone = abandoned();
      return q.stretch() <= gone.size() ? gone.get(q.stretch() - 1) : new StepBatch.Builder(1).build(run, cycle());
    }
    return read(q.from(), q.to(), q.maxPoints(), q.count());
  }

  /** At most {@code count} steps from {@code from} on, every one (a chunk of an export or of a catching-up client). */
  public StepBatch head(long from, int count) {
    return read(from, Long.MAX_VALUE, 0, count);
  }

  /** The last {@code count} steps (all of them when there are fewer), every one. May read the disk. */
  public StepBatch tail(int count) {
    long lo;
    long from = Long.MIN_VALUE;   // no steps: none read
    synchronized (this) {
      lo = Math.max(0, first + n - count);
      if (lo >= first && n > 0) from = step[(int) (lo - first)];
      else if (lo >= first) lo = -1;
    }
    if (from == Long.MIN_VALUE && lo >= 0) {   // on disk: records below the window's start stay there
      try {
        from = log.map(lo, lo + 1).step(0);
      } catch (IOException e) {
        throw new UncheckedIOException("reading the log of run " + run, e);
      }
    }
    return head(from, count);
  }

  private StepBatch read(long from, long to, int maxPoints, long limit) {
    long[] s;
    double[] l;
    double[] r;
    double[] g;
    long[] time;
    Map<String, double[]> x;
    double[] sh;
    double[] st;
    long start;
    int size;
    int c;
    synchronized (this) {
      c = cycle;
      x = extra;
      sh = sharpness;
      st = stability;
      s = step;
      l = loss;
      r = lr;
      g = gradNorm;
      time = t;
      start = first;
      size = n;
    }
    try {
      long lo = record(from, s, size, start);
      long hi = to == Long.MAX_VALUE ? start + size : record(to + 1, s, size, start);
      if (hi - lo > limit) hi = lo + limit;
      if (hi <= lo) return new StepBatch.Builder(1).build(run, c);
      Columns memory = new ArrayColumns(s, l, r, g, time, size, List.copyOf(x.keySet()), x.values().toArray(new double[0][]),
          sh, st);
      if (lo >= start) return Downsample.m4(run, memory, (int) (lo - start), (int) (hi - start), maxPoints).withCycle(c);
      Columns disk = log.map(lo, Math.min(hi, start));
      if (hi <= start && maxPoints <= 0) return disk.slice(run, 0, (int) (hi - lo)).withCycle(c);
      Joined all = new Joined(disk, memory);
      // a long overview reads the blocks' summaries, not every step (they hold no extra scalars)
      Blocks.View blocks = maxPoints > 0 && all.metrics().isEmpty() ? log.blocks() : null;
      return Downsample.m4(run, all, 0, (int) (hi - lo), maxPoints, lo, blocks).withCycle(c);
    } catch (IOException e) {
      throw new UncheckedIOException("reading the log of run " + run, e);
    }
  }

  /**
   * Each metric's finite values in steps {@code from}..{@code to}, every one, or thinned to at most
   * {@code maxPoints} per metric when that is positive (each bucket's first, last, lowest and highest, as M4 does
   * for the loss). Reads the disk: call it off the event loop.
   */
  public Map<String, MetricPoints> metricPoints(long from, long to, int maxPoints) {
    Map<String, Sparse> out = new LinkedHashMap<>();
    for (String m : metrics()) out.put(m, new Sparse());
    long at = from;
    while (at <= to && !out.isEmpty()) {
      StepBatch b = read(at, to, 0, METRIC_CHUNK);
      if (b.size() == 0) break;
      for (var e : b.metrics().entrySet()) {
        Sparse s = out.computeIfAbsent(e.getKey(), k -> new Sparse());
        double[] v = e.getValue();
        for (int i = 0; i < b.size(); i++) if (Double.isFinite(v[i])) s.add(b.step()[i], b.t()[i], v[i]);
      }
      at = b.lastStep() + 1;
    }
    Map<String, MetricPoints> result = new LinkedHashMap<>();
    for (var e : out.entrySet()) result.put(e.getKey(), Downsample.m4(e.getValue().points(), maxPoints));
    return result;
  }

  /**
   * Each metric's last, lowest and highest finite value, by name: kept as steps come; what a restored run had
   * before is read once from disk (so the first call may block: off the event loop).
   */
  public Map<String, MetricSummary> metricStats() {
    long through;
    synchronized (this) {
      if (stats.known()) return stats.all();
      through = stats.through();
    }
    Map<String, MetricSummary> before = metricStats(through);
    synchronized (this) {
      if (!stats.known() && stats.through() == through) stats.before(before);
      return stats.known() ? stats.all() : before;
    }
  }

  /** {@link #metricStats()} if known without reading the disk, else null (a restored run's, until first read). */
  public synchronized Map<String, MetricSummary> knownMetricStats() {
    return stats.known() ? stats.all() : null;
  }

  /** The stats of steps 1..{@code through}, read a chunk at a time: nothing of the metrics' points is kept. */
  private Map<String, MetricSummary> metricStats(long through) {
    MetricStats read = new MetricStats();
    read.reset(0);
    if (metrics().isEmpty()) return read.all();
    for (long at = 1; at <= through; ) {
      StepBatch b = read(at, through, 0, METRIC_CHUNK);
      if (b.size() == 0) break;
      for (var e : b.metrics().entrySet()) read.add(e.getKey(), b.step(), e.getValue(), b.size());
      at = b.lastStep() + 1;
    }
    return read.all();
  }

  /** Steps read at once by {@link #metricPoints}. */
  private static final int METRIC_CHUNK = 1 << 16;

  /** A metric's points as they are found, growing. */
  private static final class Sparse {
    private long[] step = new long[64];
    private long[] t = new long[64];
    private double[] value = new double[64];
    private int n;

    void add(long s, long time, double v) {
      if (n == step.length) {
        step = Arrays.copyOf(step, n * 2);
        t = Arrays.copyOf(t, n * 2);
        value = Arrays.copyOf(value, n * 2);
      }
      step[n] = s;
      t[n] = time;
      value[n++] = v;
    }

    MetricPoints points() {
      return new MetricPoints(Arrays.copyOf(step, n), Arrays.copyOf(t, n), Arrays.copyOf(value, n));
    }
  }

  /** How many steps {@code from}..{@code to} (inclusive) holds: records, however sparse the steps. May read the disk. */
  public long count(long from, long to) {
    long[] s;
    long start;
    int size;
    synchronized (this) {
      s = step;
      start = first;
      size = n;
    }
    try {
      return Math.max(0, (to == Long.MAX_VALUE ? start + size : record(to + 1, s, size, start)) - record(from, s, size, start));
    } catch (IOException e) {
      throw new UncheckedIOException("reading the log of run " + run, e);
    }
  }

  /** The first record whose step is at least {@code step}: on disk below the window's start, in memory from it. */
  private long record(long step, long[] s, int size, long start) throws IOException {
    if (size > 0 && step >= s[0]) return start + lowerBound(s, size, step);
    return log == null ? 0 : log.find(step, start);
  }

  /** The first index in {@code s[0..size)} whose step is at least {@code step} ({@code size} if none). */
  private static int lowerBound(long[] s, int size, long step) {
    int lo = 0;
    int hi = size;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (s[mid] < step) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private record ArrayColumns(long[] s, double[] l, double[] r, double[] g, long[] time, int size, List<String> metrics,
      double[][] extra, double[] sh, double[] st) implements Columns {
    @Override public double metric(int k, int i) {
      return extra[k][i];
    }

    @Override public boolean curvature() {
      return sh != null;
    }

    @Override public double sharpness(int i) {
      return sh == null ? Double.NaN : sh[i];
    }

    @Override public double stability(int i) {
      return st == null ? Double.NaN : st[i];
    }

    @Override public StepBatch slice(String run, int lo, int hi) {
      double[][] x = new double[extra.length][];
      for (int k = 0; k < x.length; k++) x[k] = Arrays.copyOfRange(extra[k], lo, hi);
      return Columns.batch(run, Arrays.copyOfRange(s, lo, hi), Arrays.copyOfRange(l, lo, hi), Arrays.copyOfRange(r, lo, hi),
          Arrays.copyOfRange(g, lo, hi), Arrays.copyOfRange(time, lo, hi), metrics, x,
          sh == null ? null : Arrays.copyOfRange(sh, lo, hi), st == null ? null : Arrays.copyOfRange(st, lo, hi));
    }

    @Override public long step(int i) {
      return s[i];
    }

    @Override public double loss(int i) {
      return l[i];
    }

    @Override public double lr(int i) {
      return r[i];
    }

    @Override public double gradNorm(int i) {
      return g[i];
    }

    @Override public long t(int i) {
      return time[i];
    }
  }

  /** The disk's older steps, then memory's newer ones, as one range; an extra scalar either lacks reads NaN. */
  private record Joined(Columns a, Columns b, List<String> metrics) implements Columns {
    Joined(Columns a, Columns b) {
      this(a, b, union(a.metrics(), b.metrics()));
    }

    private static List<String> union(List<String> x, List<String> y) {
      if (x.containsAll(y)) return x;
      List<String> all = new ArrayList<>(x);
      for (String name : y) if (!all.contains(name)) all.add(name);
      return all;
    }

    @Override public double metric(int k, int i) {
      Columns c = i < a.size() ? a : b;
      int at = c.metrics().indexOf(metrics.get(k));
      return at < 0 ? Double.NaN : c.metric(at, i < a.size() ? i : i - a.size());
    }

    @Override public boolean curvature() {
      return a.curvature() || b.curvature();
    }

    @Override public double sharpness(int i) {
      return i < a.size() ? a.sharpness(i) : b.sharpness(i - a.size());
    }

    @Override public double stability(int i) {
      return i < a.size() ? a.stability(i) : b.stability(i - a.size());
    }

    @Override public int size() {
      return a.size() + b.size();
    }

    @Override public long step(int i) {
      return i < a.size() ? a.step(i) : b.step(i - a.size());
    }

    @Override public double loss(int i) {
      return i < a.size() ? a.loss(i) : b.loss(i - a.size());
    }

    @Override public double lr(int i) {
      return i < a.size() ? a.lr(i) : b.lr(i - a.size());
    }

    @Override public double gradNorm(int i) {
      return i < a.size() ? a.gradNorm(i) : b.gradNorm(i - a.size());
    }

    @Override public long t(int i) {
      return i < a.size() ? a.t(i) : b.t(i - a.size());
    }
  }
}
