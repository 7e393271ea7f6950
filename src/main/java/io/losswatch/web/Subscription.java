package io.losswatch.web;

import static io.losswatch.store.Downsample.greater;
import static io.losswatch.store.Downsample.less;

import io.losswatch.event.StepBatch;
import java.util.Map;

/**
 * One client's interest in one run. In {@code all} mode it tracks a pending gap; in {@code live} mode it holds
 * the bucket since the last message: its minimum-loss, maximum-loss and last points, so a spike between two
 * messages is never hidden (NaN counts as the maximum).
 */
final class Subscription {
  enum Mode { LIVE, ALL }

  final String run;
  int cycle;            // the run's cycle this client's steps belong to
  Mode mode;
  long intervalMs;
  long sentThrough;     // the last step this client has (or was told it missed)
  long gapFrom;         // all mode: first skipped step, 0 when none
  long gapTo;
  long lastSent;
  private long bucketFrom;   // the last step before the pending bucket: with the run, cycle and last step, it names the bucket
  /** Non-null while the history is being read from disk: what arrives meanwhile, to replay after it. */
  java.util.ArrayDeque<Object> backlog;
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

  /** The run started over: its steps count from 1 again. */
  void restart(int newCycle) {
    cycle = newCycle;
    sentThrough = 0;
    gapFrom = 0;
    gapTo = 0;
    pending = false;
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
   * Sends the pending bucket as one steps message (its distinct points in step order). Clients whose
   * buckets cover the same steps of the same run get the same message: {@code written} keeps each one
   * written this tick, so a thousand subscribers cost one formatting.
   */
  void flushLive(WsSession session, Map<String, String> written, long now) {
    if (!pending) return;
    String key = run + ':' + cycle + ':' + bucketFrom + ':' + step[2];
    session.send(written.computeIfAbsent(key, k -> message()));
    pending = false;
    lastSent = now;
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
