package io.losswatch.web;

import static io.losswatch.store.Downsample.greater;
import static io.losswatch.store.Downsample.less;

import io.losswatch.event.RunSummary;
import io.losswatch.event.StepBatch;
import java.util.ArrayDeque;
import java.util.Map;

/**
 * One client's interest in one run, and what it has pending for the client: the run's newest summary (older
 * ones are conflated away), its history (sent when the queue has room; the text itself stays in the
 * {@link HistoryCache}), and in {@code all} mode a gap, in {@code live} mode the bucket since the last message:
 * its minimum-loss, maximum-loss and last points, so a spike between two messages is never hidden (NaN counts
 * as the maximum). A few hundred bytes, however far behind the client is.
 */
final class Subscription {
  enum Mode { LIVE, ALL }

  /** Where the run's history stands: not sent yet (steps are ignored: the history will hold them), being read, sent. */
  enum History { DUE, LOADING, SENT }

  /** Batches held while the history is read, in {@code all} mode; beyond this they become a gap. */
  static final int MAX_HELD = 16;

  final String run;
  int cycle;            // the run's cycle this client's steps belong to
  Mode mode;
  long intervalMs;
  long sentThrough;     // the last step this client has (or was told it missed)
  long gapFrom;         // all mode: first skipped step, 0 when none
  long gapTo;
  long lastSent;
  History history = History.DUE;
  RunSummary summary;   // the newest state change not sent yet, or null
  String summaryText;   // its message, when already written (shared by every session)
  boolean summaryFirst; // the summary goes before the pending gap or bucket (it came first)
  boolean announced;    // the client got a summary of this run
  boolean ended;        // its deletion was sent: the session drops it
  private ArrayDeque<Fanout> held;
  private long bucketFrom;   // the last step before the pending bucket: with the run, cycle and last step, it names the bucket
  // live bucket: three points (min, max, last), columnar; count 0 when empty
  private final long[] step = new long[3];
  private final double[] loss = new double[3];
  private final double[] lr = new double[3];
  private final double[] gradNorm = new double[3];
  private final long[] t = new long[3];
  private boolean pending;

  Subscription(String run, Mode mode, double hz) {
    this.run = run;
    configure(mode, hz);
  }

  void configure(Mode mode, double hz) {
    this.mode = mode;
    this.intervalMs = Math.max(1, Math.round(1000 / hz));
  }

  /** The index of the first step of {@code b} this client does not have yet, or -1. */
  int firstNew(StepBatch b) {
    if (b.lastStep() <= sentThrough) return -1;
    int i = 0;
    while (b.step()[i] <= sentThrough) i++;
    return i;
  }

  /** The run started over: its steps count from 1 again; what is pending of the old cycle is dropped. */
  void restart(int newCycle) {
    cycle = newCycle;
    forgetSteps(0);
    summaryFirst = summary != null;
  }

  /** Starts reading the history: steps 1..{@code last} of {@code c} are the history's, later ones come after it. */
  void loading(int c, long last) {
    history = History.LOADING;
    cycle = c;
    forgetSteps(last);
  }

  /** The history must be read again (it could not be sent): it will hold whatever was pending. */
  void historyDue() {
    history = History.DUE;
    forgetSteps(0);
  }

  private void forgetSteps(long through) {
    sentThrough = through;
    gapFrom = 0;
    gapTo = 0;
    pending = false;
    held = null;
  }

  /** A summary to send: the newest replaces any older one. */
  void summary(RunSummary s, String text) {
    summaryFirst = history == History.SENT && !stepsPending();
    summary = s;
    summaryText = text;
  }

  /** All mode while the history is read: keeps the batch for later, or past {@link #MAX_HELD}, makes a gap of it all. */
  void hold(Fanout f) {
    if (gapFrom == 0 && (held == null || held.size() < MAX_HELD)) {
      if (held == null) held = new ArrayDeque<>();
      held.add(f);
      return;
    }
    if (gapFrom == 0) {
      StepBatch first = held.peek().batch;
      gapFrom = first.step()[Math.max(0, firstNew(first))];
      held = null;
    }
    gapTo = Math.max(gapTo, f.batch.lastStep());
    sentThrough = Math.max(sentThrough, gapTo);
  }

  /** The held batches, to replay once the history is out. */
  ArrayDeque<Fanout> takeHeld() {
    ArrayDeque<Fanout> h = held;
    held = null;
    return h;
  }

  /** Something of the run's steps is waiting: a gap or a bucket. */
  boolean stepsPending() {
    return pending || gapFrom > 0;
  }

  boolean pending() {
    return pending;
  }

  void accumulate(Fanout f, int from) {
    StepBatch b = f.batch;
    int min = from == 0 ? f.min : from;
    int max = min;
    if (from == 0) {
      max = f.max;
    } else {
      for (int i = from; i < b.size(); i++) {
        if (less(b.loss()[i], b.loss()[min])) min = i;
        if (greater(b.loss()[i], b.loss()[max])) max = i;
      }
    }
    if (!pending) bucketFrom = sentThrough;
    if (!pending || less(b.loss()[min], loss[0])) put(0, b, min);
    if (!pending || greater(b.loss()[max], loss[1])) put(1, b, max);
    put(2, b, b.size() - 1);
    pending = true;
    sentThrough = b.lastStep();
  }

  /**
   * Sends the pending bucket as one steps message (its distinct points in step order), if there is room.
   * Clients whose buckets cover the same steps of the same run get the same message: {@code written} (when
   * given) keeps each one written this tick, so a thousand subscribers cost one formatting.
   */
  boolean flushLive(Outbound out, Map<String, String> written, long now) {
    if (!pending) return true;
    if (!out.room()) return false;
    String key = run + ':' + cycle + ':' + bucketFrom + ':' + step[2];
    out.send(written == null ? message() : written.computeIfAbsent(key, k -> message()));
    pending = false;
    lastSent = now;
    return true;
  }

  private String message() {
    int a = 0;
    int b = 1;
    int c = 2;
    if (step[a] > step[b]) { int x = a; a = b; b = x; }
    if (step[b] > step[c]) { int x = b; b = c; c = x; }
    if (step[a] > step[b]) { int x = a; a = b; b = x; }
    StepBatch.Builder out = new StepBatch.Builder(3);
    long prev = -1;
    for (int k : new int[] {a, b, c}) {
      if (step[k] == prev) continue;
      out.add(step[k], loss[k], lr[k], gradNorm[k], t[k]);
      prev = step[k];
    }
    StepBatch batch = out.build(run, cycle);
    return Wire.steps(batch, 0, batch.size(), true);
  }

  private void put(int slot, StepBatch b, int i) {
    step[slot] = b.step()[i];
    loss[slot] = b.loss()[i];
    lr[slot] = b.lr()[i];
    gradNorm[slot] = b.gradNorm()[i];
    t[slot] = b.t()[i];
  }

}
