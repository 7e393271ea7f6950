package io.losswatch.store;

import io.losswatch.event.StepBatch;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;

/**
 * Every step of one run: a recent window in memory, the rest in the run's {@link StepLog} on disk. Memory
 * stays bounded however long the run goes: it holds the last {@link #WINDOW} steps plus whatever the store
 * has not yet written (the run waits when that reaches {@link #MAX_UNWRITTEN}), and nothing once the run has
 * ended and is all on disk ({@link #release()}). Steps are numbered 1, 2, … without gaps within a cycle.
 *
 * <p>The run appends; the store reports what it persisted; anyone reads. A reader takes a consistent view
 * of the window under the lock and reads it outside: appends only write past the view's end, and trimming
 * and growth swap in new arrays, so a view never changes under its reader.
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
  private long base = 1;        // the step at index 0
  private long[] step = NO_LONGS;
  private double[] loss = NO_DOUBLES;
  private double[] lr = NO_DOUBLES;
  private double[] gradNorm = NO_DOUBLES;
  private long[] t = NO_LONGS;
  private int n;
  private long persisted;
  private int cycle;

  /** A history whose older steps live in {@code log}; {@code null} keeps everything in memory. */
  public RunHistory(String run, StepLog log) {
    this.run = run;
    this.log = log;
    if (log != null) {
      persisted = log.count();
      base = persisted + 1;
    }
  }

  public StepLog log() {
    return log;
  }

  /** Whether the steps go to disk (demo runs' do not). */
  public boolean persistent() {
    return log != null;
  }

  public synchronized void append(StepBatch b) {
    if (n + b.size() > step.length) reallocate(0, n + b.size());
    System.arraycopy(b.step(), 0, step, n, b.size());
    System.arraycopy(b.loss(), 0, loss, n, b.size());
    System.arraycopy(b.lr(), 0, lr, n, b.size());
    System.arraycopy(b.gradNorm(), 0, gradNorm, n, b.size());
    System.arraycopy(b.t(), 0, t, n, b.size());
    n += b.size();
  }

  /** The store has written every step up to {@code upTo}: memory may let go of them beyond the window. */
  public synchronized void persisted(long upTo) {
    persisted = Math.max(persisted, upTo);
    long keepFrom = Math.min(persisted + 1, base + n - WINDOW);
    int drop = (int) (keepFrom - base);
    if (drop > WINDOW) reallocate(drop, n - drop);   // in chunks, so trimming stays amortized
  }

  /** Steps taken but not yet on disk: what the run waits on beyond {@link #MAX_UNWRITTEN}. */
  public synchronized long unwritten() {
    return log == null ? 0 : base + n - 1 - persisted;
  }

  /** Lets go of the memory window once every step is on disk (the run ended): reads go to the log. */
  public synchronized void release() {
    if (log == null || unwritten() > 0) return;
    base += n;
    n = 0;
    step = NO_LONGS;
    loss = NO_DOUBLES;
    lr = NO_DOUBLES;
    gradNorm = NO_DOUBLES;
    t = NO_LONGS;
  }

  /** Forgets everything and starts the next cycle (a demo run starting over; demo runs have no log). */
  public synchronized void clear() {
    cycle++;
    base = 1;
    persisted = 0;
    n = 0;
    reallocate(0, 1024);
  }

  private void reallocate(int drop, int capacity) {
    int keep = n - drop;
    int c = Math.max(1024, Math.max(capacity, keep * 2));
    step = Arrays.copyOfRange(step, drop, drop + c);
    loss = Arrays.copyOfRange(loss, drop, drop + c);
    lr = Arrays.copyOfRange(lr, drop, drop + c);
    gradNorm = Arrays.copyOfRange(gradNorm, drop, drop + c);
    t = Arrays.copyOfRange(t, drop, drop + c);
    base += drop;
    n = keep;
  }

  public synchronized int cycle() {
    return cycle;
  }

  /** The number of the last step, 0 when there is none. */
  public synchronized long lastStep() {
    return base + n - 1;
  }

  /** The steps held in memory. */
  public synchronized int memorySteps() {
    return n;
  }

  /** Whether {@link #read} for a range starting at {@code from} stays in memory (cheap, fine on an event loop). */
  public synchronized boolean inMemory(long from) {
    return from >= base || lastStep() < from;
  }

  /**
   * Steps {@code from}..{@code to} (inclusive, clipped to what exists), every one, or M4-downsampled to at
   * most {@code maxPoints} when that is positive. Reads the disk when the range starts before the window:
   * then it blocks, so call it on a worker unless {@link #inMemory} says otherwise.
   */
  public StepBatch read(long from, long to, int maxPoints) {
    long[] s;
    double[] l;
    double[] r;
    double[] g;
    long[] time;
    long first;
    int size;
    int c;
    synchronized (this) {
      c = cycle;
      s = step;
      l = loss;
      r = lr;
      g = gradNorm;
      time = t;
      first = base;
      size = n;
    }
    long last = first + size - 1;
    from = Math.max(1, from);
    to = Math.min(to, last);
    if (to < from) return new StepBatch.Builder(1).build(run, c);
    Columns memory = new ArrayColumns(s, l, r, g, time, size);
    if (from >= first) {
      int lo = (int) (from - first);
      return Downsample.m4(run, memory, lo, lo + (int) (to - from + 1), maxPoints).withCycle(c);
    }
    try {
      Columns disk = log.map(from, Math.min(to, first - 1));
      Blocks.View blocks = maxPoints > 0 ? log.blocks() : null;   // a long overview reads these, not every step
      return Downsample.m4(run, new Joined(disk, memory), 0, (int) (to - from + 1), maxPoints, blocks).withCycle(c);
    } catch (IOException e) {
      throw new UncheckedIOException("reading the log of run " + run, e);
    }
  }

  private record ArrayColumns(long[] s, double[] l, double[] r, double[] g, long[] time, int size)
      implements Columns {
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

  /** The disk's older steps, then memory's newer ones, as one range. */
  private record Joined(Columns a, Columns b) implements Columns {
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
